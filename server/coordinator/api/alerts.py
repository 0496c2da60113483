"""AlertService: converts and calls a participant's alert operations (alerts/preferences.Alerts)."""

from __future__ import annotations

from computepool.v1 import alert_service_pb2 as pb
from computepool.v1 import alert_service_pb2_grpc as pb_grpc
from coordinator.alerts.preferences import Alerts, ChannelIn, RuleIn
from coordinator.api import convert


class AlertServicer(pb_grpc.AlertServiceServicer):
    def __init__(self, alerts: Alerts):
        self.alerts = alerts

    async def GetAlertSettings(self, request, context):
        return convert.alert_settings(await self.alerts.get(request.participant_id))

    async def UpdateAlertSettings(self, request, context):
        rules = [RuleIn(r.kind, r.threshold, tuple(r.channels)) for r in request.rules]
        channels = [ChannelIn(c.kind, c.enabled, c.webhook_url) for c in request.channels]
        return convert.alert_settings(await self.alerts.replace(request.participant_id, rules, channels))

    async def ListIncidents(self, request, context):
        rows, next_token = await self.alerts.incidents(request.participant_id, request.open_only,
                                                       convert.optional(request, "limit"), request.page_token)
        return pb.ListIncidentsResponse(incidents=[convert.incident(i) for i in rows], next_page_token=next_token)

    async def ListNotifications(self, request, context):
        rows, next_token = await self.alerts.notifications(request.participant_id, convert.optional(request, "limit"),
                                                           request.page_token)
        return pb.ListNotificationsResponse(notifications=[convert.notification(n) for n in rows],
                                            next_page_token=next_token)
