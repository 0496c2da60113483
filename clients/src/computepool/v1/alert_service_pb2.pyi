import datetime

from google.api import annotations_pb2 as _annotations_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class AlertRule(_message.Message):
    __slots__ = ("kind", "threshold", "channels")
    KIND_FIELD_NUMBER: _ClassVar[int]
    THRESHOLD_FIELD_NUMBER: _ClassVar[int]
    CHANNELS_FIELD_NUMBER: _ClassVar[int]
    kind: str
    threshold: float
    channels: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, kind: _Optional[str] = ..., threshold: _Optional[float] = ..., channels: _Optional[_Iterable[str]] = ...) -> None: ...

class NotificationChannel(_message.Message):
    __slots__ = ("kind", "enabled", "webhook_url", "webhook_secret", "disabled_reason", "consecutive_failures")
    KIND_FIELD_NUMBER: _ClassVar[int]
    ENABLED_FIELD_NUMBER: _ClassVar[int]
    WEBHOOK_URL_FIELD_NUMBER: _ClassVar[int]
    WEBHOOK_SECRET_FIELD_NUMBER: _ClassVar[int]
    DISABLED_REASON_FIELD_NUMBER: _ClassVar[int]
    CONSECUTIVE_FAILURES_FIELD_NUMBER: _ClassVar[int]
    kind: str
    enabled: bool
    webhook_url: str
    webhook_secret: str
    disabled_reason: str
    consecutive_failures: int
    def __init__(self, kind: _Optional[str] = ..., enabled: bool = ..., webhook_url: _Optional[str] = ..., webhook_secret: _Optional[str] = ..., disabled_reason: _Optional[str] = ..., consecutive_failures: _Optional[int] = ...) -> None: ...

class AlertSettings(_message.Message):
    __slots__ = ("participant_id", "rules", "channels")
    PARTICIPANT_ID_FIELD_NUMBER: _ClassVar[int]
    RULES_FIELD_NUMBER: _ClassVar[int]
    CHANNELS_FIELD_NUMBER: _ClassVar[int]
    participant_id: int
    rules: _containers.RepeatedCompositeFieldContainer[AlertRule]
    channels: _containers.RepeatedCompositeFieldContainer[NotificationChannel]
    def __init__(self, participant_id: _Optional[int] = ..., rules: _Optional[_Iterable[_Union[AlertRule, _Mapping]]] = ..., channels: _Optional[_Iterable[_Union[NotificationChannel, _Mapping]]] = ...) -> None: ...

class GetAlertSettingsRequest(_message.Message):
    __slots__ = ("participant_id",)
    PARTICIPANT_ID_FIELD_NUMBER: _ClassVar[int]
    participant_id: int
    def __init__(self, participant_id: _Optional[int] = ...) -> None: ...

class UpdateAlertSettingsRequest(_message.Message):
    __slots__ = ("participant_id", "rules", "channels")
    PARTICIPANT_ID_FIELD_NUMBER: _ClassVar[int]
    RULES_FIELD_NUMBER: _ClassVar[int]
    CHANNELS_FIELD_NUMBER: _ClassVar[int]
    participant_id: int
    rules: _containers.RepeatedCompositeFieldContainer[AlertRule]
    channels: _containers.RepeatedCompositeFieldContainer[NotificationChannel]
    def __init__(self, participant_id: _Optional[int] = ..., rules: _Optional[_Iterable[_Union[AlertRule, _Mapping]]] = ..., channels: _Optional[_Iterable[_Union[NotificationChannel, _Mapping]]] = ...) -> None: ...

class Incident(_message.Message):
    __slots__ = ("incident_id", "rule", "worker_id", "summary", "opened_at", "resolved_at")
    INCIDENT_ID_FIELD_NUMBER: _ClassVar[int]
    RULE_FIELD_NUMBER: _ClassVar[int]
    WORKER_ID_FIELD_NUMBER: _ClassVar[int]
    SUMMARY_FIELD_NUMBER: _ClassVar[int]
    OPENED_AT_FIELD_NUMBER: _ClassVar[int]
    RESOLVED_AT_FIELD_NUMBER: _ClassVar[int]
    incident_id: int
    rule: str
    worker_id: int
    summary: str
    opened_at: _timestamp_pb2.Timestamp
    resolved_at: _timestamp_pb2.Timestamp
    def __init__(self, incident_id: _Optional[int] = ..., rule: _Optional[str] = ..., worker_id: _Optional[int] = ..., summary: _Optional[str] = ..., opened_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., resolved_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class ListIncidentsRequest(_message.Message):
    __slots__ = ("participant_id", "open_only", "limit", "page_token")
    PARTICIPANT_ID_FIELD_NUMBER: _ClassVar[int]
    OPEN_ONLY_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    participant_id: int
    open_only: bool
    limit: int
    page_token: str
    def __init__(self, participant_id: _Optional[int] = ..., open_only: bool = ..., limit: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListIncidentsResponse(_message.Message):
    __slots__ = ("incidents", "next_page_token")
    INCIDENTS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    incidents: _containers.RepeatedCompositeFieldContainer[Incident]
    next_page_token: str
    def __init__(self, incidents: _Optional[_Iterable[_Union[Incident, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class Notification(_message.Message):
    __slots__ = ("notification_id", "notice_id", "channel", "type", "title", "text", "incident_id", "status", "attempts", "last_error", "created_at", "delivered_at")
    NOTIFICATION_ID_FIELD_NUMBER: _ClassVar[int]
    NOTICE_ID_FIELD_NUMBER: _ClassVar[int]
    CHANNEL_FIELD_NUMBER: _ClassVar[int]
    TYPE_FIELD_NUMBER: _ClassVar[int]
    TITLE_FIELD_NUMBER: _ClassVar[int]
    TEXT_FIELD_NUMBER: _ClassVar[int]
    INCIDENT_ID_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    ATTEMPTS_FIELD_NUMBER: _ClassVar[int]
    LAST_ERROR_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    DELIVERED_AT_FIELD_NUMBER: _ClassVar[int]
    notification_id: int
    notice_id: str
    channel: str
    type: str
    title: str
    text: str
    incident_id: int
    status: str
    attempts: int
    last_error: str
    created_at: _timestamp_pb2.Timestamp
    delivered_at: _timestamp_pb2.Timestamp
    def __init__(self, notification_id: _Optional[int] = ..., notice_id: _Optional[str] = ..., channel: _Optional[str] = ..., type: _Optional[str] = ..., title: _Optional[str] = ..., text: _Optional[str] = ..., incident_id: _Optional[int] = ..., status: _Optional[str] = ..., attempts: _Optional[int] = ..., last_error: _Optional[str] = ..., created_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., delivered_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class ListNotificationsRequest(_message.Message):
    __slots__ = ("participant_id", "limit", "page_token")
    PARTICIPANT_ID_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    participant_id: int
    limit: int
    page_token: str
    def __init__(self, participant_id: _Optional[int] = ..., limit: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListNotificationsResponse(_message.Message):
    __slots__ = ("notifications", "next_page_token")
    NOTIFICATIONS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    notifications: _containers.RepeatedCompositeFieldContainer[Notification]
    next_page_token: str
    def __init__(self, notifications: _Optional[_Iterable[_Union[Notification, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...
