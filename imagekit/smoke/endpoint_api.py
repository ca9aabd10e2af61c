"""The AWS APIs of the local endpoint, spoken as botocore speaks them, so unmodified boto3 code can drive it.

- sagemaker-runtime InvokeEndpoint (rest-json): `POST /endpoints/{EndpointName}/invocations`; its errors carry
  `x-amzn-ErrorType` (ValidationError, ModelError with OriginalStatusCode/OriginalMessage/LogStreamArn).
- sagemaker (AWS JSON 1.1, `X-Amz-Target: SageMaker.Op`): DescribeEndpoint, UpdateEndpointWeightsAndCapacities,
  ListEndpoints.
- CloudWatch (AWS JSON 1.0, `X-Amz-Target: GraniteServiceVersion20100801.Op`, what botocore sends since CloudWatch
  moved off the query protocol): GetMetricStatistics, GetMetricData, ListMetrics for the router's AWS/SageMaker
  per-variant metrics. A query-protocol request (older botocore) gets an XML error saying what to do.

Nothing here checks credentials or SigV4: any key works; the region is read from the signature's scope. This module
only shapes requests and answers; the router (variants.Router) owns the variants, weights and samples.
"""

from __future__ import annotations

import json
import math
import re
import uuid
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Callable, Mapping
from urllib.parse import unquote

from imagekit import contract
from imagekit.smoke import endpoint_metrics

if TYPE_CHECKING:
    from imagekit.smoke.variants import Router

DEFAULT_ENDPOINT_NAME = contract.LOCAL_ENDPOINT_NAME
NAME = re.compile(r"[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}")
INVOKE_PATH = re.compile("^" + re.escape(contract.RUNTIME_INVOKE_ROUTE).replace(r"\{name\}", "([^/]+)") + "$")
SCOPE_REGION = re.compile(r"Credential=[^/,]*/\d{8}/([a-z0-9-]+)/")
JSON_11, JSON_10 = "application/x-amz-json-1.1", "application/x-amz-json-1.0"
NOT_HERE = "is not supported by imagekit's local endpoint"

Reply = tuple[int, dict[str, str], bytes]


class ApiError(Exception):
    """An AWS error answer: botocore turns *code* into the client's exception class."""

    def __init__(self, code: str, message: str, status: int = 400, query_code: str | None = None) -> None:
        super().__init__(message)
        self.code, self.message, self.status, self.query_code = code, message, status, query_code


def validation(message: str) -> ApiError:
    return ApiError("ValidationException", message)


def region_of(headers: Mapping[str, str]) -> str:
    """The region the client signed for (any credentials are accepted; the scope just names the region)."""
    match = SCOPE_REGION.search(headers.get("Authorization") or "")
    return match.group(1) if match else contract.LOCAL_DEFAULT_REGION


def endpoint_arn(region: str, name: str) -> str:
    return f"arn:aws:sagemaker:{region}:{contract.LOCAL_ACCOUNT_ID}:endpoint/{name.lower()}"


def invoked_endpoint(path: str) -> str | None:
    """The EndpointName of an InvokeEndpoint path, else None."""
    match = INVOKE_PATH.match(path)
    return unquote(match.group(1)) if match else None


def _request_id() -> dict[str, str]:
    return {contract.HEADER_REQUEST_ID: str(uuid.uuid4())}


# --- sagemaker-runtime (rest-json) ---------------------------------------------------------------------------


def runtime_error(status: int, code: str, message: str, body_code: str | None = None, **fields: object) -> Reply:
    """An InvokeEndpoint error as the runtime API sends it: the code in x-amzn-ErrorType (botocore's exception
    class), the body's own ErrorCode (*body_code*, e.g. whose fault a ModelError is) and fields in the body."""
    body = json.dumps({"ErrorCode": body_code or code, "Message": message, **fields}).encode()
    return status, {"Content-Type": "application/json", contract.HEADER_ERROR_TYPE: code, **_request_id()}, body


def model_error(router: Router, variant: str, status: int, answer: bytes, region: str) -> Reply:
    """The container answered 4xx/5xx, or nothing (*status* 0, as the platform reports a container that timed out
    or hung up): the caller gets ModelError (424) naming its status and message."""
    original = answer.decode("utf-8", "replace")
    kind, code = ("client", "CLIENT_ERROR_FROM_MODEL") if 0 < status < 500 else \
        ("server", "INTERNAL_FAILURE_FROM_MODEL")
    group = contract.ENDPOINT_LOG_GROUP.format(name=router.endpoint_name)
    return runtime_error(contract.MODEL_ERROR_STATUS, "ModelError",
                         f"Received {kind} error ({status}) from primary with message \"{original}\". See the "
                         f"log of variant {variant} (imagekit streams it to stderr as `{variant} | ...`).",
                         code, OriginalStatusCode=status, OriginalMessage=original,
                         LogStreamArn=f"arn:aws:logs:{region}:{contract.LOCAL_ACCOUNT_ID}:log-group:{group}")


def check_invoke_headers(headers: Mapping[str, str]) -> str | None:
    """What InvokeEndpoint's header limits refuse (None when all fit)."""
    limits = {"Content-Type": contract.MAX_HEADER_VALUE_CHARS, "Accept": contract.MAX_HEADER_VALUE_CHARS,
              contract.HEADER_CUSTOM_ATTRIBUTES: contract.MAX_HEADER_VALUE_CHARS,
              contract.HEADER_INFERENCE_ID: contract.MAX_INFERENCE_ID_CHARS,
              contract.HEADER_TARGET_MODEL: contract.MAX_TARGET_MODEL_CHARS,
              contract.HEADER_ENABLE_EXPLANATIONS: contract.MAX_ENABLE_EXPLANATIONS_CHARS,
              contract.HEADER_TARGET_VARIANT: contract.MAX_NAME_CHARS}
    too_long = [name for name, limit in limits.items() if len(headers.get(name) or "") > limit]
    if too_long:
        return f"{', '.join(too_long)} is over InvokeEndpoint's length limit."
    return None


# --- sagemaker and CloudWatch (AWS JSON 1.1 / 1.0) ------------------------------------------------------------


def json_api(router: Router, target: str, body: bytes, headers: Mapping[str, str]) -> Reply:
    """One AWS JSON protocol call, named by X-Amz-Target."""
    service, _, operation = target.partition(".")
    content_type = JSON_11 if service == contract.SAGEMAKER_TARGET_PREFIX else JSON_10
    handlers = SAGEMAKER if service == contract.SAGEMAKER_TARGET_PREFIX else \
        CLOUDWATCH if service == contract.CLOUDWATCH_TARGET_PREFIX else {}
    try:
        handler = handlers.get(operation)
        if handler is None:
            supported = ", ".join(sorted({**SAGEMAKER, **CLOUDWATCH}))
            raise ApiError("UnknownOperationException", f"{target} {NOT_HERE}; it answers {supported} (and "
                           "sagemaker-runtime InvokeEndpoint).", query_code="InvalidAction;Sender")
        try:
            request = json.loads(body or b"{}")
        except ValueError:
            raise ApiError("SerializationException", "The request body is not JSON.") from None
        if not isinstance(request, dict):
            raise ApiError("SerializationException", "The request body is not a JSON object.")
        answer = handler(router, request, region_of(headers))
        return 200, {"Content-Type": content_type, **_request_id()}, json.dumps(answer).encode()
    except ApiError as error:
        reply_headers = {"Content-Type": content_type, contract.HEADER_ERROR_TYPE: error.code, **_request_id()}
        if service == contract.CLOUDWATCH_TARGET_PREFIX and error.query_code:
            reply_headers[contract.HEADER_QUERY_ERROR] = error.query_code
        body = json.dumps({"__type": error.code, "message": error.message}).encode()
        return error.status, reply_headers, body


def query_api_error(body: bytes) -> Reply:
    """A query-protocol request (form-encoded Action=..., older botocore's CloudWatch): an XML error that says so."""
    action = re.search(rb"Action=([A-Za-z]+)", body)
    name = action.group(1).decode() if action else "this request"
    message = (f"{name} over the query protocol {NOT_HERE}: it speaks CloudWatch's JSON protocol, which botocore "
               "uses since CloudWatch added it (upgrade boto3/botocore).")
    xml = (f'<ErrorResponse xmlns="http://monitoring.amazonaws.com/doc/2010-08-01/"><Error><Type>Sender</Type>'
           f"<Code>InvalidAction</Code><Message>{message}</Message></Error>"
           f"<RequestId>{uuid.uuid4()}</RequestId></ErrorResponse>").encode()
    return 400, {"Content-Type": "text/xml"}, xml


def _endpoint(router: Router, request: dict, region: str) -> None:
    name = request.get("EndpointName")
    if not isinstance(name, str) or not name:
        raise validation("EndpointName is required.")
    if name != router.endpoint_name:
        raise validation(f"Could not find endpoint \"{endpoint_arn(region, name)}\".")


def _describe_endpoint(router: Router, request: dict, region: str) -> dict:
    _endpoint(router, request, region)
    state = router.state()
    variants = [{"VariantName": v["name"], "DeployedImages": [{"SpecifiedImage": v["image"]}],
                 "CurrentWeight": v["current"], "DesiredWeight": v["desired"],
                 "CurrentInstanceCount": 1, "DesiredInstanceCount": 1} for v in state["variants"]]
    return {"EndpointName": router.endpoint_name, "EndpointArn": endpoint_arn(region, router.endpoint_name),
            "EndpointConfigName": router.endpoint_name, "ProductionVariants": variants,
            "EndpointStatus": state["status"], "CreationTime": state["created"],
            "LastModifiedTime": state["modified"]}


def _update_weights(router: Router, request: dict, region: str) -> dict:
    _endpoint(router, request, region)
    desired = request.get("DesiredWeightsAndCapacities")
    if not isinstance(desired, list) or not desired:
        raise validation("DesiredWeightsAndCapacities must name at least one variant.")
    weights: dict[str, float] = {}
    for item in desired:
        name = item.get("VariantName") if isinstance(item, dict) else None
        if name not in router.variants:
            raise validation(f"The variant {name!r} is not part of endpoint {router.endpoint_name} (its variants: "
                             f"{', '.join(router.variants)}).")
        if name in weights:
            raise validation(f"Variant {name} is named twice in DesiredWeightsAndCapacities.")
        if "ServerlessUpdateConfig" in item:
            raise validation(f"ServerlessUpdateConfig {NOT_HERE}: its variants are containers, not serverless.")
        count = item.get("DesiredInstanceCount", 1)
        if count != 1:
            raise validation(f"DesiredInstanceCount {count} for {name}: imagekit's local endpoint runs one "
                             "container per variant, so only 1 is supported.")
        weight = item.get("DesiredWeight", router.variants[name].weight)
        if not isinstance(weight, (int, float)) or not math.isfinite(weight) or weight < 0:
            raise validation(f"DesiredWeight {weight!r} for {name} is not a number of 0 or more.")
        weights[name] = float(weight)
    if not any({**{n: v.weight for n, v in router.variants.items()}, **weights}.values()):
        raise validation(f"The update would leave every variant of {router.endpoint_name} with weight 0, so it "
                         "would route no request.")
    if not router.begin_update(weights):
        raise validation(f"Cannot update in-progress endpoint \"{endpoint_arn(region, router.endpoint_name)}\".")
    return {"EndpointArn": endpoint_arn(region, router.endpoint_name)}


def _list_endpoints(router: Router, request: dict, region: str) -> dict:
    state = router.state()
    contains = request.get("NameContains") or ""
    status = request.get("StatusEquals")
    if contains.lower() not in router.endpoint_name.lower() or status not in (None, state["status"]):
        return {"Endpoints": []}
    return {"Endpoints": [{"EndpointName": router.endpoint_name,
                           "EndpointArn": endpoint_arn(region, router.endpoint_name),
                           "CreationTime": state["created"], "LastModifiedTime": state["modified"],
                           "EndpointStatus": state["status"]}]}


def _cloudwatch_error(message: str, code: str = "InvalidParameterValue") -> ApiError:
    return ApiError(f"{code}Exception", message, query_code=f"{code};Sender")


def _time(value: object, field: str) -> float:
    """A timestamp as botocore's JSON serializer sends it (epoch seconds), or ISO 8601."""
    if isinstance(value, (int, float)) and math.isfinite(value):
        return float(value)
    if isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            pass
        else:
            return (parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)).timestamp()
    raise _cloudwatch_error(f"{field} is missing or not a timestamp.", "MissingParameter" if value is None else
                            "InvalidParameterValue")


def _period(value: object) -> int:
    if not isinstance(value, int) or value < 1:
        raise _cloudwatch_error(f"Period {value!r} is not a whole number of seconds of at least 1 (the local "
                                "endpoint keeps every sample, so any period works, not only multiples of 60).")
    return value


def _series(router: Router, metric: dict, unit: str | None) -> tuple[str, str | None]:
    """(metric name, variant) for an AWS/SageMaker metric with exactly this endpoint's dimensions, else variant None
    (CloudWatch answers no data, not an error, for a metric nobody published)."""
    name = metric.get("MetricName")
    if not isinstance(name, str) or not name:
        raise _cloudwatch_error("MetricName is required.", "MissingParameter")
    dimensions = {d.get("Name"): d.get("Value") for d in metric.get("Dimensions") or [] if isinstance(d, dict)}
    variant = dimensions.get(contract.DIMENSION_VARIANT)
    published = (metric.get("Namespace") == contract.CLOUDWATCH_NAMESPACE and name in endpoint_metrics.UNITS
                 and set(dimensions) == {contract.DIMENSION_ENDPOINT, contract.DIMENSION_VARIANT}
                 and dimensions[contract.DIMENSION_ENDPOINT] == router.endpoint_name and variant in router.variants
                 and unit in (None, endpoint_metrics.UNITS[name]))
    return name, variant if published else None


def _points(router: Router, name: str, variant: str | None, start: float, end: float, period: int):
    if variant is None:
        return {}
    return endpoint_metrics.buckets(endpoint_metrics.values(router.samples(variant), name), start, end, period)


def _get_metric_statistics(router: Router, request: dict, region: str) -> dict:
    start, end = _time(request.get("StartTime"), "StartTime"), _time(request.get("EndTime"), "EndTime")
    period = _period(request.get("Period"))
    wanted = list(request.get("Statistics") or []) + list(request.get("ExtendedStatistics") or [])
    if not wanted:
        raise _cloudwatch_error("Statistics or ExtendedStatistics is required.", "MissingParameter")
    unknown = [s for s in wanted if not endpoint_metrics.is_statistic(s)]
    if unknown:
        raise _cloudwatch_error(f"Unknown statistic(s) {', '.join(map(str, unknown))}: use SampleCount, Average, Sum, "
                                "Minimum, Maximum or a percentile such as p99.")
    if (end - start) / period > contract.CLOUDWATCH_MAX_DATAPOINTS:
        raise _cloudwatch_error(f"You have requested up to {math.ceil((end - start) / period)} datapoints, which "
                                f"exceeds the limit of {contract.CLOUDWATCH_MAX_DATAPOINTS}.",
                                "InvalidParameterCombination")
    name, variant = _series(router, request, request.get("Unit"))
    datapoints = []
    for at, numbers in sorted(_points(router, name, variant, start, end, period).items()):
        point: dict = {"Timestamp": at, "Unit": endpoint_metrics.UNITS[name]}
        for stat in request.get("Statistics") or []:
            point[stat] = endpoint_metrics.statistic(numbers, stat)
        extended = {stat: endpoint_metrics.statistic(numbers, stat) for stat in request.get("ExtendedStatistics") or []}
        if extended:
            point["ExtendedStatistics"] = extended
        datapoints.append(point)
    return {"Label": name, "Datapoints": datapoints}


def _get_metric_data(router: Router, request: dict, region: str) -> dict:
    start, end = _time(request.get("StartTime"), "StartTime"), _time(request.get("EndTime"), "EndTime")
    queries = request.get("MetricDataQueries")
    if not isinstance(queries, list) or not queries:
        raise _cloudwatch_error("MetricDataQueries is required.", "MissingParameter")
    if len(queries) > contract.CLOUDWATCH_MAX_METRIC_DATA_QUERIES:
        raise _cloudwatch_error(f"{len(queries)} MetricDataQueries: at most "
                                f"{contract.CLOUDWATCH_MAX_METRIC_DATA_QUERIES} are allowed.")
    descending = request.get("ScanBy", "TimestampDescending") == "TimestampDescending"
    results = []
    for query in queries:
        stat = query.get("MetricStat") if isinstance(query, dict) else None
        if not isinstance(stat, dict):
            raise _cloudwatch_error(f"Query {query.get('Id') if isinstance(query, dict) else query!r}: metric math "
                                    f"(Expression) {NOT_HERE}; give each query a MetricStat.")
        if not endpoint_metrics.is_statistic(str(stat.get("Stat"))):
            raise _cloudwatch_error(f"Query {query.get('Id')}: unknown Stat {stat.get('Stat')!r}.")
        name, variant = _series(router, stat.get("Metric") or {}, stat.get("Unit"))
        points = sorted(_points(router, name, variant, start, end, _period(stat.get("Period"))).items(),
                        reverse=descending)
        if query.get("ReturnData", True):
            results.append({"Id": query.get("Id"), "Label": query.get("Label") or name,
                            "Timestamps": [at for at, _ in points],
                            "Values": [endpoint_metrics.statistic(numbers, stat["Stat"]) for _, numbers in points],
                            "StatusCode": "Complete"})
    return {"MetricDataResults": results, "Messages": []}


def _list_metrics(router: Router, request: dict, region: str) -> dict:
    if request.get("Namespace") not in (None, contract.CLOUDWATCH_NAMESPACE):
        return {"Metrics": []}
    wanted = request.get("MetricName")
    return {"Metrics": [{"Namespace": contract.CLOUDWATCH_NAMESPACE, "MetricName": name,
                         "Dimensions": [{"Name": contract.DIMENSION_ENDPOINT, "Value": router.endpoint_name},
                                        {"Name": contract.DIMENSION_VARIANT, "Value": variant}]}
                        for variant in router.variants for name in endpoint_metrics.UNITS
                        if wanted in (None, name)]}


Handler = Callable[["Router", dict, str], dict]
SAGEMAKER: dict[str, Handler] = {"DescribeEndpoint": _describe_endpoint,
                                 "UpdateEndpointWeightsAndCapacities": _update_weights,
                                 "ListEndpoints": _list_endpoints}
CLOUDWATCH: dict[str, Handler] = {"GetMetricStatistics": _get_metric_statistics, "GetMetricData": _get_metric_data,
                                  "ListMetrics": _list_metrics}
