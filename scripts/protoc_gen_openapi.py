"""protoc plugin: the OpenAPI 3.1 document of the REST API as Envoy serves it (envoy/openapi.json).

scripts/gen_protos.py runs it (`make gen`; `make check-gen` fails when the committed document
differs). Nothing here is written by hand per operation; the document is what these sources say:

- the protos: every `google.api.http` binding (additional bindings too) is an operation; path
  fields are path parameters, the other fields of a GET/DELETE are query parameters, `body: "*"`
  is the JSON body; comments are summaries and descriptions; an rpc comment's 2xx figures are
  its success statuses ("Through REST it answers 201"), its gRPC codes its error statuses;
- the proto3 JSON mapping with the transcoder's print options (envoy/envoy.yaml.template):
  proto field names, every field without presence printed (zero values, empty lists), enums by
  name, 64-bit integers as strings, well-known types in their JSON forms;
- envoy/filter.lua: the pool lists it turns into bare arrays (X-Next-Page-Token header), the
  paths whose 200 it turns into 503, and the error body every status >= 400 gets;
- the server: who may call each rpc (coordinator.api.access, as security requirements), which
  rpcs need the miner's token, and Envoy's rate-limited route families (devtools.envoy_config).

As a protoc plugin it reads a CodeGeneratorRequest on stdin and writes the response on stdout.
"""

from __future__ import annotations

import json
import pathlib
import re
import sys
import textwrap

ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "server"), str(ROOT / "clients" / "gen")]

from google.api import annotations_pb2  # noqa: E402  (registers the google.api.http option)
from google.protobuf import descriptor_pb2  # noqa: E402
from google.protobuf.compiler import plugin_pb2  # noqa: E402

from coordinator.api.access import MINER_TOKEN_RPCS, PUBLIC, RULES  # noqa: E402
from coordinator.api.interceptor import PROTECTED_PREFIX  # noqa: E402
from coordinator.identity.callers import CallerKind  # noqa: E402
from devtools.envoy_config import FAMILY_RULES  # noqa: E402

OUTPUT = "openapi.json"
FIELD = descriptor_pb2.FieldDescriptorProto
LUA = (ROOT / "envoy" / "filter.lua").read_text()
# GET path -> the repeated field whose items Envoy answers as a bare array
BARE_LISTS = dict(re.findall(r'\["(/[^"]+)"\] = "(\w+)"', re.search(r"BARE_LISTS = \{(.*?)\}", LUA, re.S).group(1)))
# Paths whose 200 filter.lua turns into a 503 with the same body (GET /health when not SERVING)
SAME_BODY_503 = set(re.findall(r'request\.path == "(/[^"]*)" and status == 200', LUA))

INT32 = {"type": "integer", "format": "int32", "minimum": -2**31, "maximum": 2**31 - 1}
UINT32 = {"type": "integer", "format": "int64", "minimum": 0, "maximum": 2**32 - 1}
SCALARS = {
    FIELD.TYPE_DOUBLE: {"type": "number", "format": "double"},
    FIELD.TYPE_FLOAT: {"type": "number", "format": "float"},
    FIELD.TYPE_INT32: INT32, FIELD.TYPE_SINT32: INT32, FIELD.TYPE_SFIXED32: INT32,
    FIELD.TYPE_UINT32: UINT32, FIELD.TYPE_FIXED32: UINT32,
    FIELD.TYPE_BOOL: {"type": "boolean"},
    FIELD.TYPE_STRING: {"type": "string"},
    FIELD.TYPE_BYTES: {"type": "string", "contentEncoding": "base64"},
}
INT64 = (FIELD.TYPE_INT64, FIELD.TYPE_SINT64, FIELD.TYPE_SFIXED64)
UINT64 = (FIELD.TYPE_UINT64, FIELD.TYPE_FIXED64)


def int64_schema(signed: bool, request: bool) -> dict:
    """proto3 JSON prints 64-bit integers as decimal strings; it reads strings or numbers."""
    low, high = (-2**63, 2**63 - 1) if signed else (0, 2**64 - 1)
    text = {"type": "string", "pattern": "^-?[0-9]{1,20}$" if signed else "^[0-9]{1,20}$",
            "format": "int64" if signed else "uint64", "description": f"a decimal integer, {low} to {high}"}
    if not request:
        return text
    return {"oneOf": [text, {"type": "integer", "minimum": low, "maximum": high}]}


WRAPPERS = {f"google.protobuf.{name}Value": kind for name, kind in [
    ("Double", FIELD.TYPE_DOUBLE), ("Float", FIELD.TYPE_FLOAT), ("Int64", FIELD.TYPE_INT64),
    ("UInt64", FIELD.TYPE_UINT64), ("Int32", FIELD.TYPE_INT32), ("UInt32", FIELD.TYPE_UINT32),
    ("Bool", FIELD.TYPE_BOOL), ("String", FIELD.TYPE_STRING), ("Bytes", FIELD.TYPE_BYTES)]}
WELL_KNOWN = {
    "google.protobuf.Timestamp": {"type": "string", "format": "date-time",
                                  "description": "RFC 3339, UTC (`2025-01-15T10:30:00Z`)"},
    "google.protobuf.Duration": {"type": "string", "pattern": r"^-?[0-9]+(\.[0-9]{1,9})?s$",
                                 "description": "seconds with the suffix `s` (`10s`, `1.5s`)"},
    "google.protobuf.Struct": {"type": "object", "description": "any JSON object"},
    "google.protobuf.Value": {"description": "any JSON value"},
    "google.protobuf.ListValue": {"type": "array", "description": "any JSON array"},
    "google.protobuf.NullValue": {"type": "null"},
    "google.protobuf.Empty": {"type": "object", "maxProperties": 0},
    "google.protobuf.FieldMask": {"type": "string", "description": "field paths in lowerCamelCase, comma-separated"},
    "google.protobuf.Any": {"type": "object", "required": ["@type"], "properties": {"@type": {"type": "string"}}},
}

# An error's HTTP status: the gRPC codes an rpc comment names (api/status.py STATUS_OF, and
# Envoy's convert_grpc_status for the rest); INVALID_ARGUMENT is 422 for a bad field, 400 for a
# request that is no request of this call.
STATUS_OF_CODE = {"INVALID_ARGUMENT": (400, 422), "FAILED_PRECONDITION": (400,), "UNAUTHENTICATED": (401,),
                  "PERMISSION_DENIED": (403,), "NOT_FOUND": (404,), "ALREADY_EXISTS": (409,),
                  "RESOURCE_EXHAUSTED": (429,), "UNAVAILABLE": (503,)}
ERRORS = {  # status -> (component name, description)
    400: ("BadRequest", "Malformed request: JSON that does not parse, an unknown query parameter, a value not "
                        "of its field's type (Envoy), a body field naming another resource than the path, or a "
                        "failed precondition (reason in `error.code`)."),
    401: ("Unauthenticated", "Credentials missing or not valid (CREDENTIALS_MISSING, API_KEY_INVALID, "
                             "SESSION_INVALID, MINER_TOKEN_MISSING, MINER_TOKEN_INVALID)."),
    403: ("PermissionDenied", "This caller may not do this (ROLE_NOT_ALLOWED, NOT_OWNER, NO_PARTICIPANT, "
                              "MINER_MISMATCH)."),
    404: ("NotFound", "No such resource (or it belongs to another client)."),
    409: ("Conflict", "It exists already, with other content."),
    422: ("ValidationError", "A field's value is out of range or malformed: `error.details.field_violations` "
                             "names each field."),
    429: ("RateLimited", "Over the rate limit of this kind of call for this client address (RATE_LIMITED)."),
    500: ("Internal", "A server fault (INTERNAL); it is logged."),
    503: ("Unavailable", "The database or the server cannot be reached now; retry, after `Retry-After` "
                         "seconds when given (DATABASE_UNAVAILABLE)."),
}
SECURITY_SCHEMES = {
    "ApiKey": {"type": "apiKey", "in": "header", "name": "X-Api-Key",
               "description": "An API key: a bootstrap admin key (API_KEYS) or one an admin created, with role "
                              "admin, client or miner."},
    "SessionToken": {"type": "apiKey", "in": "header", "name": "X-Session-Token",
                     "description": "A wallet login's session token (POST /v1/users/login)."},
    "MinerToken": {"type": "apiKey", "in": "header", "name": "X-Miner-Token",
                   "description": "A registered miner's credential (POST /v1/miner/register); sent beside an API "
                                  "key."},
}
KIND_WORDS = {CallerKind.ADMIN: "an admin API key", CallerKind.CLIENT: "a client API key",
              CallerKind.MINER: "a miner API key", CallerKind.USER: "a user session"}

DESCRIPTION = """\
The REST API of computepool, as Envoy serves it: every operation is a gRPC method of the
contract (`proto/computepool/v1`) transcoded by Envoy, and this document is generated from the
same protos (`scripts/protoc_gen_openapi.py`).

- **JSON**: field names as in the protos (snake_case); every field without presence is printed,
  zero values and empty lists included; a message-typed or `optional` field that is unset is
  left out. 64-bit integers are decimal strings (requests may send numbers), times RFC 3339,
  durations `"10s"`. Unknown body fields are ignored; an unknown query parameter is a 400.
- **Paths**: a trailing slash names the same path (`/api/v1/workers/` is `/api/v1/workers`).
  Operations under `/v1` are served under `/api/v1` as well.
- **Lists**: `GET /api/v1/workers`, `/participants` and `/payouts` answer a bare JSON array; the
  next page's token is in the `X-Next-Page-Token` response header (absent on the last page).
  Other lists carry `next_page_token` in the body.
- **Errors** (every status from 400 up): `{"detail": "...", "error": {"code": "REASON",
  "message": "...", "details": {...}}}`; `error.code` is the reason from the server's catalogue,
  and each operation's description names those it answers.
- **Rate limits**: per client address and family of calls (RATE_LIMITS); over it, 429 with
  `Retry-After`.
- **Credentials**: `X-Api-Key` or `X-Session-Token`; miners add `X-Miner-Token`. A non-admin
  credential sees and changes only its own participant's things.
"""


class Proto:
    """The messages and enums of the request's files by full name, and their comments."""

    def __init__(self, request: plugin_pb2.CodeGeneratorRequest):
        self.files = {f.name: f for f in request.proto_file}
        self.messages: dict[str, descriptor_pb2.DescriptorProto] = {}
        self.enums: dict[str, descriptor_pb2.EnumDescriptorProto] = {}
        self.comments: dict[tuple, str] = {}  # (file, source path...) -> leading comment
        self.located: dict[str, tuple] = {}  # full name -> (file, source path...)
        for file in request.proto_file:
            for location in file.source_code_info.location:
                if location.leading_comments:
                    self.comments[(file.name, *location.path)] = clean(location.leading_comments)
            for index, message in enumerate(file.message_type):
                self._add_message(f"{file.package}.{message.name}", message, (file.name, 4, index))
            for index, enum in enumerate(file.enum_type):
                self._add_enum(f"{file.package}.{enum.name}", enum, (file.name, 5, index))

    def _add_message(self, name: str, message, located: tuple) -> None:
        self.messages[name], self.located[name] = message, located
        for index, nested in enumerate(message.nested_type):
            self._add_message(f"{name}.{nested.name}", nested, (*located, 3, index))
        for index, enum in enumerate(message.enum_type):
            self._add_enum(f"{name}.{enum.name}", enum, (*located, 4, index))

    def _add_enum(self, name: str, enum, located: tuple) -> None:
        self.enums[name], self.located[name] = enum, located

    def comment(self, full_name: str, field_index: int | None = None) -> str:
        """The comment of a message or enum, or of its field (value) at `field_index`."""
        path = self.located.get(full_name, ())
        return self.comments.get(path if field_index is None else (*path, 2, field_index), "")


def clean(comment: str) -> str:
    return textwrap.dedent(comment).strip()


def summary(comment: str) -> str:
    first = re.split(r"(?<=\.)\s", comment.replace("\n", " "), maxsplit=1)[0]
    return first.rstrip(".")


def schema_name(full_name: str) -> str:
    """Component name: the name inside its package ("Worker", "HealthCheckResponse.ServingStatus")."""
    return full_name.split(".v1.", 1)[-1]


class Schemas:
    """components/schemas, made on demand: a message once as it is printed (responses) and, where
    requests carry it too, once as it is read (`<Name>Input`: 64-bit integers as strings or
    numbers, enums by name or number, no field required, unknown fields ignored)."""

    def __init__(self, proto: Proto):
        self.proto = proto
        self.components: dict[str, dict] = {}
        self.response_names: set[str] = set()

    def ref(self, full_name: str, request: bool) -> dict:
        name = schema_name(full_name) + ("Input" if request and full_name in self.response_names else "")
        if name not in self.components:
            self.components[name] = {}  # reserved first: messages may refer to themselves
            if full_name in self.proto.enums:
                self.components[name] = self.enum(full_name, request)
            else:
                self.components[name] = self.message(full_name, request)
        return {"$ref": f"#/components/schemas/{name}"}

    def enum(self, full_name: str, request: bool) -> dict:
        enum = self.proto.enums[full_name]
        names = [value.name for value in enum.value]
        described = [f"`{value.name}`: {self.proto.comment(full_name, index)}" for index, value in enumerate(enum.value)
                     if self.proto.comment(full_name, index)]
        schema = {"type": "string", "enum": names}
        if request:  # the parser takes the number too
            schema = {"enum": names + [value.number for value in enum.value]}
        description = " ".join(filter(None, [self.proto.comment(full_name), "; ".join(described)]))
        return {**schema, "description": description} if description else schema

    def message(self, full_name: str, request: bool, without: frozenset[str] = frozenset()) -> dict:
        message = self.proto.messages[full_name]
        properties, required = {}, []
        for index, field in enumerate(message.field):
            if field.name in without:
                continue
            properties[field.name] = self.field(field, request, self.proto.comment(full_name, index))
            if not request and not has_presence(field):
                required.append(field.name)
        schema = {"type": "object", "description": self.proto.comment(full_name), "properties": properties}
        if required:
            schema["required"] = required
        if not request:
            schema["additionalProperties"] = False
        oneofs = real_oneofs(message)
        if oneofs:  # at most one member of each oneof is set
            schema["dependentSchemas"] = {
                member: {"not": {"anyOf": [{"required": [other]} for other in members if other != member]}}
                for members in oneofs for member in members}
        if not schema["description"]:
            del schema["description"]
        return schema

    def field(self, field, request: bool, comment: str = "") -> dict:
        if field.label == FIELD.LABEL_REPEATED and self.is_map(field):
            entry = self.proto.messages[field.type_name.lstrip(".")]
            schema = {"type": "object", "additionalProperties": self.single(entry.field[1], request)}
        elif field.label == FIELD.LABEL_REPEATED:
            schema = {"type": "array", "items": self.single(field, request)}
        else:
            schema = self.single(field, request)
        return {**schema, "description": comment} if comment else schema

    def is_map(self, field) -> bool:
        entry = self.proto.messages.get(field.type_name.lstrip("."))
        return entry is not None and entry.options.map_entry

    def single(self, field, request: bool) -> dict:
        if field.type in SCALARS:
            return dict(SCALARS[field.type])
        if field.type in INT64 or field.type in UINT64:
            return int64_schema(field.type in INT64, request)
        type_name = field.type_name.lstrip(".")
        if type_name in WRAPPERS:
            return self.single(FIELD(type=WRAPPERS[type_name]), request)
        if type_name in WELL_KNOWN:
            return dict(WELL_KNOWN[type_name])
        return self.ref(type_name, request)

    def response(self, full_name: str) -> dict:
        """The schema of a message as Envoy prints it."""
        return self.ref(full_name, request=False)

    def mark_printed(self, full_name: str) -> None:
        """Marks a response message and all it holds, before any schema is made: their request
        forms are then named `<Name>Input`."""
        if full_name in self.response_names:
            return
        self.response_names.add(full_name)
        for field in getattr(self.proto.messages.get(full_name), "field", ()):
            if field.type_name:
                self.mark_printed(field.type_name.lstrip("."))


def has_presence(field) -> bool:
    """Fields the transcoder leaves out when unset: messages, `optional` and oneof members.
    Everything else is printed (always_print_primitive_fields), lists and maps as empty ones."""
    if field.label == FIELD.LABEL_REPEATED:
        return False
    return field.type == FIELD.TYPE_MESSAGE or field.proto3_optional or field.HasField("oneof_index")


def real_oneofs(message) -> list[list[str]]:
    members: dict[int, list[str]] = {}
    for field in message.field:
        if field.HasField("oneof_index") and not field.proto3_optional:
            members.setdefault(field.oneof_index, []).append(field.name)
    return [names for names in members.values() if len(names) > 1]


def bindings(rule) -> list[tuple[str, str, str]]:
    """(method, path template, body) of an HttpRule and its additional bindings."""
    found = []
    for binding in [rule, *rule.additional_bindings]:
        kind = binding.WhichOneof("pattern")
        if kind == "custom":
            method, path = binding.custom.kind.lower(), binding.custom.path
        else:
            method, path = kind, getattr(binding, kind)
        found.append((method, path, binding.body))
    return found


def path_fields(template: str) -> list[str]:
    """The field paths a template binds: "/v1/jobs/{job_id}" -> ["job_id"] ("{name=x/*}" too)."""
    return [match.split("=", 1)[0] for match in re.findall(r"\{([^}]+)\}", template)]


def openapi_path(template: str) -> str:
    return re.sub(r"\{([^}=]+)=[^}]*\}", r"{\1}", template)


class Operations:
    def __init__(self, proto: Proto, schemas: Schemas):
        self.proto = proto
        self.schemas = schemas
        self.paths: dict[str, dict] = {}
        self.tags: list[dict] = []

    def add_service(self, file, index: int, service) -> None:
        full_service = f"{file.package}.{service.name}"
        bound = [(m, i) for i, m in enumerate(service.method) if m.options.HasExtension(annotations_pb2.http)]
        if not bound:
            return
        service_comment = self.proto.comments.get((file.name, 6, index), "")
        self.tags.append({"name": service.name, "description": service_comment} if service_comment
                         else {"name": service.name})
        for method, method_index in bound:
            comment = self.proto.comments.get((file.name, 6, index, 2, method_index), "")
            rule = method.options.Extensions[annotations_pb2.http]
            found = bindings(rule)
            for number, (verb, template, body) in enumerate(found):
                alias_of = None if number == 0 else f"{found[0][0].upper()} {found[0][1]}"
                operation_id = f"{service.name}_{method.name}" + ("" if number == 0 else f"_{number + 1}")
                self.add(f"/{full_service}/{method.name}", method, comment, verb, template, body, operation_id,
                         service.name, alias_of)

    def add(self, rpc: str, method, comment: str, verb: str, template: str, body: str, operation_id: str,
            tag: str, alias_of: str | None) -> None:
        request_name = method.input_type.lstrip(".")
        request = self.proto.messages[request_name]
        fields = [field.name for field in request.field]
        in_path = path_fields(template)
        description = comment
        if alias_of:
            description += f"\n\nThe same operation as `{alias_of}`."
        operation = {"operationId": operation_id, "tags": [tag], "summary": summary(comment),
                     "description": description.strip()}
        parameters = [self.parameter(request_name, name, "path") for name in in_path]
        if not body:
            parameters += [self.parameter(request_name, name, "query") for name in fields if name not in in_path]
        if parameters:
            operation["parameters"] = parameters
        if body:
            operation["requestBody"] = self.request_body(request_name, body, frozenset(in_path))
        security, callers = self.security(rpc)
        if security is not None:
            operation["security"] = security
            operation["description"] += f"\n\nWho may call: {callers}."
        operation["responses"] = self.responses(rpc, method, comment, verb, template, bool(request.field),
                                                security is not None)
        self.paths.setdefault(openapi_path(template), {})[verb] = operation

    def parameter(self, request_name: str, name: str, where: str) -> dict:
        if "." in name:
            raise SystemExit(f"protoc-gen-openapi: nested field {name} as a parameter is not supported yet")
        index, field = next((i, f) for i, f in enumerate(self.proto.messages[request_name].field) if f.name == name)
        if field.type == FIELD.TYPE_MESSAGE and field.type_name.lstrip(".") not in WELL_KNOWN:
            raise SystemExit(f"protoc-gen-openapi: {name} is a message; as a parameter it is not supported yet")
        parameter = {"name": name, "in": where, "schema": self.schemas.field(field, request=True)}
        if where == "path":
            parameter["required"] = True
        if field.label == FIELD.LABEL_REPEATED:
            parameter.update(style="form", explode=True)
        comment = self.proto.comment(request_name, index)
        if comment:
            parameter["description"] = comment
        return parameter

    def request_body(self, request_name: str, body: str, in_path: frozenset[str]) -> dict:
        if body != "*":
            raise SystemExit(f"protoc-gen-openapi: body {body!r} of {request_name}: only body \"*\" is supported yet")
        if in_path:  # the path names those fields; the body may not set them to other values
            schema = self.schemas.message(request_name, request=True, without=in_path)
        else:
            schema = self.schemas.ref(request_name, request=True)
        # An empty body is read as `{}` (every field at its default).
        return {"required": False, "content": {"application/json": {"schema": schema}}}

    def security(self, rpc: str) -> tuple[list | None, str]:
        """(the security requirement, who may call in words); (None, "") for a public rpc."""
        if not rpc.startswith(PROTECTED_PREFIX):
            return None, ""  # health checking stays open (api/interceptor.py)
        kinds = RULES.get(rpc)
        if kinds is None:
            raise SystemExit(f"protoc-gen-openapi: {rpc} has no rule in coordinator.api.access.RULES")
        if kinds == PUBLIC:
            return None, ""
        alternatives = []
        if kinds & {CallerKind.ADMIN, CallerKind.CLIENT, CallerKind.MINER}:
            alternatives.append({"ApiKey": []})
        if CallerKind.USER in kinds:
            alternatives.append({"SessionToken": []})
        callers = ", ".join(KIND_WORDS[kind] for kind in KIND_WORDS if kind in kinds)
        if rpc in MINER_TOKEN_RPCS:
            alternatives = [{**alternative, "MinerToken": []} for alternative in alternatives]
            callers += ", with the miner's X-Miner-Token"
        return alternatives, callers

    def responses(self, rpc: str, method, comment: str, verb: str, template: str, has_input: bool,
                  secured: bool) -> dict:
        output = method.output_type.lstrip(".")
        headers = {}
        if output == "google.api.HttpBody":
            media = re.search(r"`([a-z]+/[a-z0-9.+-]+)`", comment)
            content = {media.group(1) if media else "application/octet-stream": {"schema": {"type": "string"}}}
            if "Content-Disposition" in comment:
                headers["Content-Disposition"] = {"description": "`attachment; filename=\"...\"`",
                                                  "schema": {"type": "string"}}
        elif verb == "get" and template in BARE_LISTS:
            list_field = next(f for f in self.proto.messages[output].field if f.name == BARE_LISTS[template])
            content = {"application/json": {"schema": {
                "type": "array", "items": self.schemas.response(list_field.type_name.lstrip(".")),
                "description": f"The `{list_field.name}` of {schema_name(output)}, as a bare array."}}}
            headers["X-Next-Page-Token"] = {"description": "The token of the next page (`page_token`); absent on "
                                                           "the last page.", "schema": {"type": "string"}}
        elif method.server_streaming:  # Envoy's transcoder sends each message as a Server-Sent Event
            content = {"text/event-stream": {"schema": {
                "type": "string", "description": f"A stream of `data: <{schema_name(output)} as JSON>` events, "
                                                 "one per message, until the caller or the server ends it."}}}
        else:
            content = {"application/json": {"schema": self.schemas.response(output)}}
        success = sorted(set(re.findall(r"\b(20[0-9])\b", comment))) or ["200"]
        answers = {status: {"description": "Created" if status == "201" else "OK", "content": content}
                   for status in success}
        for answer in answers.values():
            if headers:
                answer["headers"] = headers
        for status in sorted(self.error_statuses(rpc, comment, verb, template, has_input, secured)):
            answers[str(status)] = {"$ref": f"#/components/responses/{ERRORS[status][0]}"}
        if template in SAME_BODY_503:
            answers["503"] = {"description": "Not serving (the same body as 200), or the server cannot be reached "
                                             "(the error body).",
                              "content": {"application/json": {"schema": {"oneOf": [
                                  content["application/json"]["schema"], {"$ref": "#/components/schemas/Error"}]}}}}
        return answers

    def error_statuses(self, rpc: str, comment: str, verb: str, template: str, has_input: bool,
                       secured: bool) -> set[int]:
        # Envoy refuses malformed requests (400); any call may fail (500) or find the database or
        # server away (503).
        statuses = {400, 500, 503}
        for code, http in STATUS_OF_CODE.items():
            if re.search(rf"(?<![A-Z_]){code}(?![A-Z_])", comment):
                statuses.update(http)
        if secured:
            statuses.update((401, 403))
        if rpc.startswith(PROTECTED_PREFIX) and has_input:  # every text field is checked (api/request_text.py)
            statuses.add(422)
        sample_path = re.sub(r"\{[^}]*\}", "1", template)
        for _, regex, method in FAMILY_RULES:
            matches_method = method is None or (method.lstrip("!") != verb.upper()) == method.startswith("!")
            if matches_method and re.fullmatch(regex, sample_path):
                statuses.add(429)
        return statuses


def error_components() -> tuple[dict, dict]:
    error = {
        "type": "object", "required": ["detail", "error"], "additionalProperties": False,
        "description": "Every error, whoever answers it (the server, or Envoy itself).",
        "properties": {
            "detail": {"type": "string", "description": "What went wrong, in words (the same as error.message)."},
            "error": {"type": "object", "required": ["code", "message", "details"], "additionalProperties": False,
                      "properties": {
                          "code": {"type": "string", "description": "The reason, UPPER_SNAKE (RATE_LIMITED, "
                                                                    "WORKER_NOT_FOUND, VALIDATION_ERROR, ...)."},
                          "message": {"type": "string"},
                          "details": {"$ref": "#/components/schemas/ErrorDetails"}}}}}
    details = {
        "type": "object", "description": "Facts about the error: google.rpc.ErrorInfo's metadata (strings), and "
                                         "for a bad field its name and the field violations.",
        "properties": {"field_violations": {"type": "array", "items": {
            "type": "object", "required": ["field", "description"], "additionalProperties": False,
            "properties": {"field": {"type": "string"}, "description": {"type": "string"}}}}},
        "additionalProperties": {"type": "string"}}
    responses = {}
    for status, (name, description) in ERRORS.items():
        response = {"description": description,
                    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
        if status in (429, 503):
            response["headers"] = {"Retry-After": {
                "description": "Seconds to wait before retrying.", "required": status == 429,
                "schema": {"type": "string", "pattern": "^[0-9]+$"}}}
        responses[name] = response
    return {"Error": error, "ErrorDetails": details}, responses


def build(request: plugin_pb2.CodeGeneratorRequest) -> dict:
    proto = Proto(request)
    schemas = Schemas(proto)
    operations = Operations(proto, schemas)
    services = [(proto.files[name], index, service) for name in request.file_to_generate
                for index, service in enumerate(proto.files[name].service)]
    for _, _, service in services:
        for method in service.method:
            if method.options.HasExtension(annotations_pb2.http):
                schemas.mark_printed(method.output_type.lstrip("."))
    for file, index, service in services:
        operations.add_service(file, index, service)
    error_schemas, error_responses = error_components()
    return {
        "openapi": "3.1.0",
        "info": {"title": "computepool", "version": "v1", "description": DESCRIPTION},
        "servers": [{"url": "/", "description": "the Envoy that serves this document"}],
        "tags": operations.tags,
        "paths": operations.paths,
        "components": {"schemas": {**dict(sorted(schemas.components.items())), **error_schemas},
                       "responses": error_responses, "securitySchemes": SECURITY_SCHEMES},
    }


def main() -> None:
    request = plugin_pb2.CodeGeneratorRequest.FromString(sys.stdin.buffer.read())
    document = build(request)
    response = plugin_pb2.CodeGeneratorResponse(
        supported_features=plugin_pb2.CodeGeneratorResponse.FEATURE_PROTO3_OPTIONAL)
    response.file.add(name=OUTPUT, content=json.dumps(document, indent=1, ensure_ascii=False) + "\n")
    sys.stdout.buffer.write(response.SerializeToString())


if __name__ == "__main__":
    main()
