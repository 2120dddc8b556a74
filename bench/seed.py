"""Seed N resources into the emulator for the scan benchmark (loopback only).

Mix per unit of 10: 2 KMS keys, 1 VPC-scoped security group pair, 2 log groups, 2 secrets,
1 Kinesis stream, 1 IAM role, plus one VPC per 50 units. Half of everything is deliberately
non-compliant so the controls do real work.
"""
import json
import sys

import boto3

endpoint, n = sys.argv[1], int(sys.argv[2])
kw = dict(endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id="testing", aws_secret_access_key="testing")
kms, ec2, logs, sm, kinesis, iam = (boto3.client(s, **kw) for s in ("kms", "ec2", "logs", "secretsmanager", "kinesis", "iam"))

created = 0
vpc = None
trust = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "ecs-tasks.amazonaws.com"}, "Action": "sts:AssumeRole"}]})
i = 0
while created < n:
    good = i % 2 == 0
    if i % 50 == 0:
        vpc = ec2.create_vpc(CidrBlock=f"10.{(i // 50) % 250}.0.0/16")["Vpc"]["VpcId"]
        created += 1
    key = kms.create_key(Description=f"bench-{i}")["KeyMetadata"]["KeyId"]
    if good:
        kms.enable_key_rotation(KeyId=key)
    created += 1
    sg = ec2.create_security_group(GroupName=f"bench-{i}", Description="bench", VpcId=vpc)["GroupId"]
    cidr = "10.0.0.0/8" if good else "0.0.0.0/0"
    ec2.authorize_security_group_ingress(GroupId=sg, IpPermissions=[{"IpProtocol": "tcp", "FromPort": 5432, "ToPort": 5432, "IpRanges": [{"CidrIp": cidr}]}])
    created += 1
    logs.create_log_group(logGroupName=f"/bench/{i}", **({"kmsKeyId": f"arn:aws:kms:us-east-1:123456789012:key/{key}"} if good else {}))
    if good:
        logs.put_retention_policy(logGroupName=f"/bench/{i}", retentionInDays=365)
    created += 1
    sm.create_secret(Name=f"bench-{i}", SecretString="{}", **({"KmsKeyId": key} if good else {}))
    created += 1
    if i % 5 == 0:
        kinesis.create_stream(StreamName=f"bench-{i}", ShardCount=1)
        created += 1
        iam.create_role(RoleName=f"bench-{i}", AssumeRolePolicyDocument=trust)
        created += 1
    i += 1
print(created)
