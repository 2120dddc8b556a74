"""Seed about N resources across every service the emulator supports (loopback only), for
bench/calls.sh. Prints a JSON object: resource type -> count created.

Mix (fractions of N): KMS keys 30%, log groups 20%, secrets 8%, security groups 8%, IAM roles
5%, users 3%, customer managed policies 3%, subnets 4%, S3 buckets 3%, Kinesis streams 2%,
VPCs 2%, route tables 2%, EBS snapshots 2%, RDS instances, load balancers, target groups,
ECS clusters, task definitions, EFS file systems, ElastiCache clusters and REST APIs 1% each
(at least one of each), and one CloudTrail trail. Half of everything is deliberately
non-compliant so the controls do real work.
"""
import json
import sys

import boto3

endpoint, n = sys.argv[1], int(sys.argv[2])
kw = dict(endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id="testing", aws_secret_access_key="testing")
c = {s: boto3.client(s, **kw) for s in ("kms", "ec2", "logs", "secretsmanager", "kinesis", "iam", "s3", "rds", "elbv2", "ecs", "efs", "elasticache", "apigateway", "cloudtrail")}
counts = {}


def share(frac):
    return max(1, int(n * frac))


def done(kind, k=1):
    counts[kind] = counts.get(kind, 0) + k


trust = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "ecs-tasks.amazonaws.com"}, "Action": "sts:AssumeRole"}]})
doc = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]})

keys = []
for i in range(share(0.30)):
    k = c["kms"].create_key(Description=f"bench-{i}")["KeyMetadata"]["KeyId"]
    if i % 2 == 0:
        c["kms"].enable_key_rotation(KeyId=k)
    keys.append(k)
    done("kms:key")
for i in range(share(0.20)):
    good = i % 2 == 0
    c["logs"].create_log_group(logGroupName=f"/bench/{i}", **({"kmsKeyId": f"arn:aws:kms:us-east-1:123456789012:key/{keys[i % len(keys)]}"} if good else {}))
    if good:
        c["logs"].put_retention_policy(logGroupName=f"/bench/{i}", retentionInDays=365)
    done("logs:log-group")
for i in range(share(0.08)):
    c["secretsmanager"].create_secret(Name=f"bench-{i}", SecretString="{}", **({"KmsKeyId": keys[i % len(keys)]} if i % 2 == 0 else {}))
    done("secretsmanager:secret")
for i in range(share(0.02)):
    c["kinesis"].create_stream(StreamName=f"bench-{i}", ShardCount=1)
    done("kinesis:stream")
for i in range(share(0.05)):
    c["iam"].create_role(RoleName=f"bench-{i}", AssumeRolePolicyDocument=trust)
    done("iam:role")
for i in range(share(0.03)):
    c["iam"].create_user(UserName=f"bench-{i}")
    if i % 2 == 1:
        c["iam"].create_access_key(UserName=f"bench-{i}")
        done("iam:access-key")
    done("iam:user")
for i in range(share(0.03)):
    arn = c["iam"].create_policy(PolicyName=f"bench-{i}", PolicyDocument=doc)["Policy"]["Arn"]
    c["iam"].attach_role_policy(RoleName=f"bench-{i % share(0.05)}", PolicyArn=arn)
    done("iam:policy")

vpcs = []
for i in range(share(0.02)):
    v = c["ec2"].create_vpc(CidrBlock=f"10.{i % 250}.0.0/16")["Vpc"]["VpcId"]
    vpcs.append(v)
    done("ec2:vpc")
for i in range(share(0.04)):
    v = vpcs[i % len(vpcs)]
    c["ec2"].create_subnet(VpcId=v, CidrBlock=f"10.{(i % len(vpcs)) % 250}.{i // len(vpcs) % 256}.0/24")
    done("ec2:subnet")
for i in range(share(0.02)):
    c["ec2"].create_route_table(VpcId=vpcs[i % len(vpcs)])
    done("ec2:route-table")
for i in range(share(0.08)):
    sg = c["ec2"].create_security_group(GroupName=f"bench-{i}", Description="bench", VpcId=vpcs[i % len(vpcs)])["GroupId"]
    cidr = "10.0.0.0/8" if i % 2 == 0 else "0.0.0.0/0"
    c["ec2"].authorize_security_group_ingress(GroupId=sg, IpPermissions=[{"IpProtocol": "tcp", "FromPort": 5432, "ToPort": 5432, "IpRanges": [{"CidrIp": cidr}]}])
    done("ec2:security-group")
for i in range(share(0.02)):
    vol = c["ec2"].create_volume(AvailabilityZone="us-east-1a", Size=1, Encrypted=i % 2 == 0)["VolumeId"]
    c["ec2"].create_snapshot(VolumeId=vol)
    done("ec2:snapshot")
for i in range(share(0.03)):
    c["s3"].create_bucket(Bucket=f"bench-{i}")
    if i % 2 == 0:
        c["s3"].put_bucket_encryption(Bucket=f"bench-{i}", ServerSideEncryptionConfiguration={"Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": keys[0]}}]})
    done("s3:bucket")
for i in range(share(0.01)):
    c["rds"].create_db_instance(DBInstanceIdentifier=f"bench-{i}", Engine="postgres", DBInstanceClass="db.t3.micro", AllocatedStorage=20, MasterUsername="u", MasterUserPassword="p" * 12, StorageEncrypted=i % 2 == 0)
    done("rds:db-instance")
subnets = [s["SubnetId"] for s in c["ec2"].describe_subnets(Filters=[{"Name": "vpc-id", "Values": [vpcs[0]]}])["Subnets"]]
azs = c["ec2"].describe_subnets(SubnetIds=subnets)["Subnets"]
if len({s["AvailabilityZone"] for s in azs}) < 2:
    subnets.append(c["ec2"].create_subnet(VpcId=vpcs[0], CidrBlock="10.0.250.0/24", AvailabilityZone="us-east-1b")["Subnet"]["SubnetId"])
    subnets.append(c["ec2"].create_subnet(VpcId=vpcs[0], CidrBlock="10.0.251.0/24", AvailabilityZone="us-east-1a")["Subnet"]["SubnetId"])
    done("ec2:subnet", 2)
for i in range(share(0.01)):
    lb = c["elbv2"].create_load_balancer(Name=f"bench-{i}", Subnets=subnets[:2], Scheme="internal")["LoadBalancers"][0]["LoadBalancerArn"]
    tg = c["elbv2"].create_target_group(Name=f"bench-{i}", Protocol="HTTP", Port=80, VpcId=vpcs[0])["TargetGroups"][0]["TargetGroupArn"]
    c["elbv2"].create_listener(LoadBalancerArn=lb, Protocol="HTTP", Port=80, DefaultActions=[{"Type": "forward", "TargetGroupArn": tg}])
    done("elbv2:load-balancer")
    done("elbv2:target-group")
for i in range(share(0.01)):
    c["ecs"].create_cluster(clusterName=f"bench-{i}")
    c["ecs"].register_task_definition(family=f"bench-{i}", containerDefinitions=[{"name": "app", "image": "public.ecr.aws/x/y:1", "memory": 128}])
    done("ecs:cluster")
    done("ecs:task-definition")
for i in range(share(0.01)):
    c["efs"].create_file_system(CreationToken=f"bench-{i}", Encrypted=i % 2 == 0)
    done("efs:file-system")
for i in range(share(0.01)):
    c["elasticache"].create_cache_cluster(CacheClusterId=f"bench-{i}", Engine="memcached", CacheNodeType="cache.t3.micro", NumCacheNodes=1)
    done("elasticache:cluster")
for i in range(share(0.01)):
    c["apigateway"].create_rest_api(name=f"bench-{i}")
    done("apigateway:rest-api")
c["s3"].create_bucket(Bucket="bench-trail")
c["cloudtrail"].create_trail(Name="bench", S3BucketName="bench-trail", IsMultiRegionTrail=True)
done("cloudtrail:trail")
done("s3:bucket")
print(json.dumps(counts))
