"""The minimum API calls an account-wide scan of one region needs, per service, as formulas of
the account's resource counts (bench/minimum-calls.md explains each term). Used by
bench/calls.sh; `r` is the report's stats.resources plus the seeder's hidden counts
(iam:access-key, elbv2:https-listener, ecs:service, efs:mount-target, rds:manual-snapshot).
"""
from math import ceil


def pages(n, size):
    """List calls for n items at the maximum page size: at least one (an empty first page)."""
    return max(1, ceil(n / size))


def minimum(r):
    g = lambda k: r.get(k, 0)
    keys, cust = g("kms:key"), g("kms:key")  # every seeded key is a symmetric customer key
    users = g("iam:user")
    trails = g("cloudtrail:trail")
    return {
        "sts": 1,  # GetCallerIdentity
        # ListKeys (1000/page), ListAliases (100/page), DescribeKey per key (manager, state,
        # spec), GetKeyPolicy and GetKeyRotationStatus per customer key
        "kms": pages(keys, 1000) + pages(g("kms:alias"), 100) + keys + 2 * cust,
        "logs": pages(g("logs:log-group"), 50),  # DescribeLogGroups (50/page): key, retention
        "secretsmanager": pages(g("secretsmanager:secret"), 100),  # ListSecrets: rotation, key, tags
        # ListStreams (10000/page), DescribeStreamSummary per stream (encryption, retention)
        "kinesis": pages(g("kinesis:stream"), 10000) + g("kinesis:stream"),
        # GetAccountAuthorizationDetails (1000/page), GetAccountSummary, GetAccountPasswordPolicy,
        # ListUsers (PasswordLastUsed), per user ListMFADevices, ListAccessKeys, GetLoginProfile,
        # per access key GetAccessKeyLastUsed
        "iam": pages(g("iam:role") + users + g("iam:policy"), 1000) + 3 + 3 * users + g("iam:access-key"),
        # 7 lists (route tables 100/page, others 1000/page), DescribeVpcAttribute x2 per VPC (DNS
        # support, DNS hostnames: one attribute per call), DescribeSnapshots (1000/page) and
        # DescribeSnapshotAttribute (createVolumePermission) per snapshot, GetEbsEncryptionByDefault
        "ec2": pages(g("ec2:vpc"), 1000) + pages(g("ec2:subnet"), 1000) + pages(g("ec2:route-table"), 100) + 1 + 1
        + pages(g("ec2:security-group"), 1000) + 1 + 2 * g("ec2:vpc") + pages(g("ec2:snapshot"), 1000) + g("ec2:snapshot") + 1,
        # ListBuckets, then per bucket: location, ACL, encryption, logging, ownership, policy,
        # versioning, object lock, public access block (no bulk S3 API exists)
        "s3": 1 + 9 * g("s3:bucket"),
        "s3control": 1,  # the account's public access block
        # 5 lists (100/page), DescribeDBParameterGroups + DescribeDBParameters per parameter group
        # in use, DescribeDBSnapshotAttributes per manual snapshot
        "rds": pages(g("rds:db-instance"), 100) + 4 + 2 * g("rds:parameter-group") + g("rds:manual-snapshot"),
        # 2 lists (400/page), per LB DescribeListeners + DescribeLoadBalancerAttributes, per
        # listener DescribeRules, per HTTPS listener DescribeListenerCertificates (+ acm)
        "elbv2": pages(g("elbv2:load-balancer"), 400) + pages(g("elbv2:target-group"), 400) + 2 * g("elbv2:load-balancer")
        + g("elbv2:listener") + g("elbv2:https-listener"),
        # ListClusters, DescribeClusters (100 per call, include SETTINGS+TAGS), ListServices per
        # cluster, DescribeServices per 10 services, ListTaskDefinitions, DescribeTaskDefinition each
        "ecs": pages(g("ecs:cluster"), 100) + (ceil(g("ecs:cluster") / 100)) + g("ecs:cluster") + ceil(g("ecs:service") / 10)
        + pages(g("ecs:task-definition"), 100) + g("ecs:task-definition"),
        # DescribeFileSystems, per file system: access points, backup policy, file system policy,
        # lifecycle, mount targets; per mount target its security groups
        "efs": pages(g("efs:file-system"), 100) + 5 * g("efs:file-system") + g("efs:mount-target"),
        "elasticache": 2,  # DescribeReplicationGroups, DescribeCacheClusters (100/page)
        # GetRestApis (500/page), per API GetResources (embed methods) and GetStages
        "apigateway": pages(g("apigateway:rest-api"), 500) + 2 * g("apigateway:rest-api"),
        # DescribeTrails, per trail GetTrailStatus and GetEventSelectors, ListTags (20 ARNs per call)
        "cloudtrail": 1 + 2 * trails + (ceil(trails / 20)),
        "config": 3,  # recorders, recorder status, delivery channels
        "guardduty": 1 + g("guardduty:detector"),  # ListDetectors, GetDetector per detector
        "acm": g("acm:certificate"),  # DescribeCertificate per certificate in use
    }
