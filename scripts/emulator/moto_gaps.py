"""Test tooling only: fill gaps of the moto emulator that the product's real AWS calls hit.

The product calls the real APIs; where moto 5.2.5 lacks one, this module adds a minimal,
AWS-shaped implementation to the emulator process so that the end-to-end tests exercise the
product's real code path. Nothing here is used against AWS. Each gap is one function below.

Gaps filled:
- ElastiCache RBAC user groups (CreateUserGroup, DescribeUserGroups, ModifyUserGroup,
  DeleteUserGroup; tags on user groups): moto implements users but not user groups.
- ElastiCache replication groups that are deleted: moto keeps them in `deleting` forever;
  AWS removes them when the deletion completes. Here the first describe after the delete
  reports `deleting`, the next one no longer finds the group.
- ElastiCache DeleteCacheSubnetGroup: not implemented by moto.
- RDS DeleteDBCluster keeps the cluster's automated snapshots (AWS deletes them with the
  cluster), so recreating a cluster of the same name within the same minute fails with
  DBClusterSnapshotAlreadyExistsFault. Here they go with the cluster.
- S3 GetBucketVersioning answers with the root element GetBucketVersioningResponse; AWS (and
  the SDK's parser) use VersioningConfiguration
  (https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetBucketVersioning.html).
- IAM enforcement (`INITIAL_NO_AUTH_ACTION_COUNT`, `/moto-api/reset-auth`): to check a SigV4
  signature moto rebuilds the request, and for a request without a body (the GETs of REST-JSON
  services: API Gateway, EFS, GuardDuty) it signs its parsed parameters (the headers) as the
  payload, so every such call fails with SignatureDoesNotMatch for every user; and a form
  body it has already parsed (query protocols: EC2, RDS, IAM, ElastiCache, ...) it encodes
  again its own way, so a value with a space or a colon fails the same way when the client
  (the Rust SDK) encodes it as RFC 3986 says. Here a GET, HEAD or DELETE without a body is
  rebuilt without one, and a parsed form is encoded as the SDKs encode it.
- STS AssumeRole: moto lets anyone assume any role ARN, even one that does not exist. AWS
  refuses (AccessDenied) unless the role exists and its trust policy allows the caller's account
  (`Principal.AWS`: `*`, the account id, or an ARN in that account) for `sts:AssumeRole`, with
  the `sts:ExternalId` a `StringEquals` condition requires
  (https://docs.aws.amazon.com/IAM/latest/UserGuide/id_roles_common-scenarios_third-party.html).
  Here AssumeRole checks that before moto's own code runs.
"""

from moto.core.responses import ActionResult, EmptyResult
from moto.elasticache import models as ec_models
from moto.elasticache.exceptions import ElastiCacheException
from moto.elasticache.responses import ElastiCacheResponse
from moto.utilities.utils import get_partition
import re


class _Error(ElastiCacheException):
    pass


# moto serializes an error by the package its exception class lives in
_Error.__module__ = "moto.elasticache.exceptions"


def _error(code, message):
    """An ElastiCache error with AWS's code, as moto serializes it."""
    e = _Error(message)
    e.code = code
    return e


def _groups(backend):
    if not hasattr(backend, "tapaudit_user_groups"):
        backend.tapaudit_user_groups = {}
        # tags on user groups go through the backend's ARN check
        backend.arn_regex = re.compile(
            r"^arn:aws:elasticache:.*:[0-9]*:(cluster|snapshot|subnetgroup|replicationgroup|user|usergroup):.*$"
        )
    return backend.tapaudit_user_groups


def _shape(backend, g):
    return {
        "UserGroupId": g["id"],
        "Status": g["status"],
        "Engine": g["engine"],
        "UserIds": list(g["users"]),
        "MinimumEngineVersion": "6.0",
        "ReplicationGroups": [
            rg_id for rg_id, rg in backend.replication_groups.items() if g["id"] in (getattr(rg, "user_group_ids", None) or [])
        ],
        "ARN": g["arn"],
    }


def _check_users(backend, user_ids):
    for u in user_ids:
        if u not in backend.users:
            raise _error("UserNotFound", f"User {u} not found.")


def _group(backend, group_id):
    groups = _groups(backend)
    if group_id not in groups:
        raise _error("UserGroupNotFound", f"User group {group_id} not found.")
    return groups[group_id]


def create_user_group(self):
    params = self._get_params()
    backend = self.elasticache_backend
    groups = _groups(backend)
    group_id = params.get("UserGroupId")
    if group_id in groups:
        raise _error("UserGroupAlreadyExists", f"User group {group_id} already exists.")
    users = params.get("UserIds") or []
    _check_users(backend, users)
    arn = f"arn:{get_partition(backend.region_name)}:elasticache:{backend.region_name}:{backend.account_id}:usergroup:{group_id}"
    g = {"id": group_id, "engine": (params.get("Engine") or "redis").lower(), "users": list(users), "status": "active", "arn": arn}
    groups[group_id] = g
    tags = params.get("Tags") or []
    if tags:
        backend.tagging_service.tag_resource(arn, tags)
    return ActionResult(_shape(backend, g))


def describe_user_groups(self):
    params = self._get_params()
    backend = self.elasticache_backend
    group_id = params.get("UserGroupId")
    found = [_group(backend, group_id)] if group_id else list(_groups(backend).values())
    return ActionResult({"UserGroups": [_shape(backend, g) for g in found]})


def modify_user_group(self):
    params = self._get_params()
    backend = self.elasticache_backend
    g = _group(backend, params.get("UserGroupId"))
    add = params.get("UserIdsToAdd") or []
    _check_users(backend, add)
    remove = params.get("UserIdsToRemove") or []
    g["users"] = [u for u in g["users"] if u not in remove] + [u for u in add if u not in g["users"]]
    return ActionResult(_shape(backend, g))


def delete_user_group(self):
    params = self._get_params()
    backend = self.elasticache_backend
    g = _group(backend, params.get("UserGroupId"))
    _groups(backend).pop(g["id"])
    g["status"] = "deleting"
    return ActionResult(_shape(backend, g))


def delete_cache_subnet_group(self):
    backend = self.elasticache_backend
    name = self._get_params().get("CacheSubnetGroupName")
    if name not in backend.cache_subnet_groups:
        raise _error("CacheSubnetGroupNotFoundFault", f"CacheSubnetGroup {name} not found.")
    _finish_deletions(backend)
    in_use = [rg for rg in backend.replication_groups.values() if getattr(rg, "cache_subnet_group_name", None) == name]
    in_use += [c for c in backend.cache_clusters.values() if getattr(c, "cache_subnet_group_name", None) == name]
    if in_use:
        raise _error("CacheSubnetGroupInUse", f"Cache subnet group {name} is currently in use by a cache cluster.")
    backend.cache_subnet_groups.pop(name)
    return EmptyResult()


def _finish_deletions(backend):
    for rg_id, rg in list(backend.replication_groups.items()):
        if getattr(rg, "status", None) == "deleting":
            if getattr(rg, "tapaudit_deleting_seen", False):
                backend.replication_groups.pop(rg_id)
            else:
                rg.tapaudit_deleting_seen = True


def _install_rds():
    from moto.rds import models as rds_models

    original_delete = rds_models.RDSBackend.delete_db_cluster

    def delete_db_cluster(self, cluster_identifier, *a, **kw):
        cluster = original_delete(self, cluster_identifier, *a, **kw)
        for snap_id, snap in list(self.cluster_snapshots.items()):
            if getattr(snap, "snapshot_type", None) == "automated" and snap_id.startswith(f"rds:{cluster_identifier}-"):
                self.cluster_snapshots.pop(snap_id)
        return cluster

    rds_models.RDSBackend.delete_db_cluster = delete_db_cluster


def _install_s3():
    from moto.s3.responses import S3Response

    def get_bucket_versioning(self):
        status = self.backend.get_bucket_versioning(self.bucket_name)
        inner = f"<Status>{status}</Status>" if status else ""
        body = (
            '<?xml version="1.0" encoding="UTF-8"?>\n'
            f'<VersioningConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/">{inner}</VersioningConfiguration>'
        )
        return 200, {"Content-Type": "application/xml"}, body

    S3Response.get_bucket_versioning = get_bucket_versioning


def _install_signature_check():
    from moto.iam import access_control

    original = access_control.IAMRequestBase._create_aws_request

    from urllib.parse import quote

    def create_aws_request(self):
        request = original(self)
        if not self._body and self._method in ("GET", "HEAD", "DELETE"):
            request.data = b""
        elif not self._body and isinstance(self._data, dict):
            # a form the server already parsed: encoded again as AWS SDKs encode query
            # protocol bodies (RFC 3986, unreserved characters kept), in the order it came
            request.data = "&".join(
                f"{quote(k, safe='-_.~')}={quote(v, safe='-_.~')}"
                for k, vs in self._data.items()
                for v in (vs if isinstance(vs, list) else [vs])
            ).encode()
        return request

    access_control.IAMRequestBase._create_aws_request = create_aws_request


def _principal_allows(principal, caller):
    if principal == "*":
        return True
    if not isinstance(principal, dict):
        return False
    aws = principal.get("AWS", [])
    for p in aws if isinstance(aws, list) else [aws]:
        if p == "*" or p == caller or (isinstance(p, str) and p.split(":")[4:5] == [caller]):
            return True
    return False


def _trust_allows(document, caller, external_id):
    """True when a trust policy lets account `caller` assume the role with `external_id`."""
    import json
    from urllib.parse import unquote

    try:
        policy = json.loads(document)
    except ValueError:
        policy = json.loads(unquote(document))
    statements = policy.get("Statement", [])
    for st in statements if isinstance(statements, list) else [statements]:
        if st.get("Effect") != "Allow":
            continue
        actions = st.get("Action", [])
        actions = actions if isinstance(actions, list) else [actions]
        if not any(a in ("sts:AssumeRole", "sts:*", "*") for a in actions):
            continue
        if not _principal_allows(st.get("Principal"), caller):
            continue
        required = st.get("Condition", {}).get("StringEquals", {}).get("sts:ExternalId")
        if required is not None:
            wanted = required if isinstance(required, list) else [required]
            if external_id not in wanted:
                continue
        return True
    return False


def _install_sts_trust():
    from moto.iam.models import iam_backends
    from moto.sts.exceptions import STSClientError
    from moto.sts.responses import TokenResponse as STSResponse

    class _StsError(STSClientError):
        pass

    _StsError.__module__ = "moto.sts.exceptions"
    original = STSResponse.assume_role

    def assume_role(self):
        arn = self._get_param("RoleArn") or ""
        external_id = self._get_param("ExternalId")
        caller = self.get_current_account()
        parts = arn.split(":")
        allowed = False
        if len(parts) >= 6 and parts[2] == "iam":
            try:
                # IAM is global: moto keeps its roles under "global"
                role = iam_backends[parts[4]]["global"].get_role_by_arn(arn)
                allowed = _trust_allows(role.assume_role_policy_document, caller, external_id)
            except Exception:
                allowed = False
        if not allowed:
            raise _StsError(
                "AccessDenied",
                f"User: arn:aws:iam::{caller}:root is not authorized to perform: sts:AssumeRole on resource: {arn}",
            )
        return original(self)

    STSResponse.assume_role = assume_role


def install():
    _install_rds()
    _install_sts_trust()
    _install_signature_check()
    _install_s3()
    ElastiCacheResponse.create_user_group = create_user_group
    ElastiCacheResponse.describe_user_groups = describe_user_groups
    ElastiCacheResponse.modify_user_group = modify_user_group
    ElastiCacheResponse.delete_user_group = delete_user_group
    ElastiCacheResponse.delete_cache_subnet_group = delete_cache_subnet_group
    # tag calls on a user group's ARN before any user-group call in that region
    original_init = ec_models.ElastiCacheBackend.__init__

    def init(self, *a, **kw):
        original_init(self, *a, **kw)
        _groups(self)

    ec_models.ElastiCacheBackend.__init__ = init

    original_describe = ec_models.ElastiCacheBackend.describe_replication_groups

    def describe_replication_groups(self, *a, **kw):
        _finish_deletions(self)
        return original_describe(self, *a, **kw)

    ec_models.ElastiCacheBackend.describe_replication_groups = describe_replication_groups
