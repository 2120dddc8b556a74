//! The one registry of the AWS operations tapaudit calls, and the IAM actions each needs.
//!
//! - [`SCAN`]: every operation a collector may call. The scan's clients carry
//!   [`RegisteredOnly`], which refuses any other operation before it is signed or sent, so the
//!   scanner cannot call what `tapaudit policy scan` does not grant (and cannot write: the
//!   registry holds reads only, a unit test checks it). A collector that starts calling a new
//!   operation fails every test that reaches it until the operation is registered here.
//! - [`PROVISION`]: every operation provisioning and destroying may call, with the resource each
//!   acts on; the provisioner's clients carry the same guard over this list, and
//!   `tapaudit policy provision` scopes each statement to the stack from it.
//!
//! Operations are named as the SDK names them (`Metadata` of the request: service as the SDK
//! spells it, e.g. `EC2`, `CloudWatch Logs`, `S3 Control`; operation name as in the API
//! reference). The IAM action is `<prefix>:<Operation>` unless the entry says otherwise; the
//! exceptions are AWS's (S3's action names, API Gateway's HTTP-verb actions, STS's
//! GetCallerIdentity that needs no permission), each from the Service Authorization Reference.

use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::context::BeforeSerializationInterceptorContextRef;
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::orchestrator::Metadata;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::config_bag::ConfigBag;

/// What IAM must allow for one operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Grant {
    /// `<prefix>:<Operation>`.
    Named,
    /// These actions (AWS names the action differently, or the call needs more than one).
    Actions(&'static [&'static str]),
    /// No permission is evaluated (STS GetCallerIdentity).
    Nothing,
}

/// What an operation of [`PROVISION`] acts on, for scoping its statement to one stack.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    /// IAM supports no resource-level permission for the action: `*`.
    Any,
    /// A resource the stack names: the statement lists the stack's name patterns of `kind`
    /// (see `crate::permissions`).
    Named(&'static str),
    /// A resource with an id AWS chose that already carries the stack's tag: ARNs of `kind`,
    /// with the condition `aws:ResourceTag/tapaudit:stack`.
    Tagged(&'static str),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Op {
    pub name: &'static str,
    pub grant: Grant,
    pub target: Target,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Service {
    /// The SDK's service name (request `Metadata`).
    pub sdk: &'static str,
    /// The IAM service prefix.
    pub prefix: &'static str,
    pub ops: &'static [Op],
}

impl Op {
    /// The IAM actions this operation needs.
    pub fn actions(&self, prefix: &str) -> Vec<String> {
        match self.grant {
            Grant::Named => vec![format!("{prefix}:{}", self.name)],
            Grant::Actions(a) => a.iter().map(|s| s.to_string()).collect(),
            Grant::Nothing => vec![],
        }
    }
}

macro_rules! op {
    ($name:literal) => {
        Op { name: $name, grant: Grant::Named, target: Target::Any }
    };
    ($name:literal => [$($a:literal),+]) => {
        Op { name: $name, grant: Grant::Actions(&[$($a),+]), target: Target::Any }
    };
    ($name:literal @ $t:ident($k:literal)) => {
        Op { name: $name, grant: Grant::Named, target: Target::$t($k) }
    };
    ($name:literal => [$($a:literal),+] @ $t:ident($k:literal)) => {
        Op { name: $name, grant: Grant::Actions(&[$($a),+]), target: Target::$t($k) }
    };
}

macro_rules! service {
    ($sdk:literal, $prefix:literal, [$($op:expr),* $(,)?]) => {
        Service { sdk: $sdk, prefix: $prefix, ops: &[$($op),*] }
    };
}

/// Every operation the collectors call (reads only).
pub const SCAN: &[Service] = &[
    service!("STS", "sts", [Op { name: "GetCallerIdentity", grant: Grant::Nothing, target: Target::Any }]),
    service!(
        "KMS",
        "kms",
        [op!("ListKeys"), op!("DescribeKey"), op!("GetKeyPolicy"), op!("GetKeyRotationStatus"), op!("ListAliases"), op!("ListResourceTags")]
    ),
    service!(
        "EC2",
        "ec2",
        [
            op!("DescribeRegions"),
            op!("DescribeVpcs"),
            op!("DescribeVpcAttribute"),
            op!("DescribeSubnets"),
            op!("DescribeSecurityGroups"),
            op!("DescribeRouteTables"),
            op!("DescribeInternetGateways"),
            op!("DescribeNatGateways"),
            op!("DescribeFlowLogs"),
            op!("DescribeManagedPrefixLists"),
            op!("GetManagedPrefixListEntries"),
            op!("DescribeSnapshots"),
            op!("DescribeSnapshotAttribute"),
            op!("GetEbsEncryptionByDefault"),
        ]
    ),
    service!(
        "RDS",
        "rds",
        [
            op!("DescribeDBInstances"),
            op!("DescribeDBClusters"),
            op!("DescribeDBParameterGroups"),
            op!("DescribeDBParameters"),
            op!("DescribeDBClusterParameterGroups"),
            op!("DescribeDBClusterParameters"),
            op!("DescribeDBSubnetGroups"),
            op!("DescribeDBSnapshots"),
            op!("DescribeDBSnapshotAttributes"),
            op!("DescribeDBClusterSnapshots"),
            op!("DescribeDBClusterSnapshotAttributes"),
        ]
    ),
    service!("Kinesis", "kinesis", [op!("ListStreams"), op!("DescribeStreamSummary"), op!("ListTagsForStream")]),
    service!("CloudWatch Logs", "logs", [op!("DescribeLogGroups"), op!("ListTagsForResource")]),
    // ListSecrets returns metadata only; GetSecretValue is never called nor granted.
    service!("Secrets Manager", "secretsmanager", [op!("ListSecrets")]),
    service!(
        "ECS",
        "ecs",
        [op!("ListClusters"), op!("DescribeClusters"), op!("ListServices"), op!("DescribeServices"), op!("ListTaskDefinitions"), op!("DescribeTaskDefinition")]
    ),
    // API Gateway authorizes by HTTP verb on the resource path; `crate::permissions` scopes
    // `apigateway:GET` to the REST API paths, so API key values (/apikeys) stay unreadable.
    service!(
        "API Gateway",
        "apigateway",
        [op!("GetRestApis" => ["apigateway:GET"]), op!("GetResources" => ["apigateway:GET"]), op!("GetStages" => ["apigateway:GET"])]
    ),
    service!("ElastiCache", "elasticache", [op!("DescribeReplicationGroups"), op!("DescribeCacheClusters"), op!("ListTagsForResource")]),
    service!(
        "EFS",
        "elasticfilesystem",
        [
            op!("DescribeFileSystems"),
            op!("DescribeAccessPoints"),
            op!("DescribeBackupPolicy"),
            op!("DescribeFileSystemPolicy"),
            op!("DescribeLifecycleConfiguration"),
            op!("DescribeMountTargets"),
            // AWS also authorizes the mount target's network interface.
            op!("DescribeMountTargetSecurityGroups" => ["elasticfilesystem:DescribeMountTargetSecurityGroups", "ec2:DescribeNetworkInterfaceAttribute"]),
        ]
    ),
    service!(
        "Elastic Load Balancing v2",
        "elasticloadbalancing",
        [
            op!("DescribeLoadBalancers"),
            op!("DescribeLoadBalancerAttributes"),
            op!("DescribeListeners"),
            op!("DescribeListenerCertificates"),
            op!("DescribeRules"),
            op!("DescribeTags"),
            op!("DescribeTargetGroups"),
        ]
    ),
    service!("ACM", "acm", [op!("DescribeCertificate"), op!("ListTagsForCertificate")]),
    service!(
        "IAM",
        "iam",
        [
            op!("GetAccountAuthorizationDetails"),
            op!("GetPolicy"),
            op!("GetPolicyVersion"),
            op!("ListUsers"),
            op!("GetLoginProfile"),
            op!("ListMFADevices"),
            op!("ListAccessKeys"),
            op!("GetAccessKeyLastUsed"),
            op!("GetAccountPasswordPolicy"),
            op!("GetAccountSummary"),
        ]
    ),
    service!(
        "S3",
        "s3",
        [
            op!("ListBuckets" => ["s3:ListAllMyBuckets"]),
            op!("GetBucketLocation"),
            op!("GetBucketTagging"),
            op!("GetBucketPolicy"),
            op!("GetBucketPolicyStatus"),
            op!("GetBucketAcl"),
            op!("GetBucketOwnershipControls"),
            op!("GetBucketEncryption" => ["s3:GetEncryptionConfiguration"]),
            op!("GetPublicAccessBlock" => ["s3:GetBucketPublicAccessBlock"]),
            op!("GetBucketVersioning"),
            op!("GetObjectLockConfiguration" => ["s3:GetBucketObjectLockConfiguration"]),
            op!("GetBucketLogging"),
        ]
    ),
    service!("S3 Control", "s3", [op!("GetPublicAccessBlock" => ["s3:GetAccountPublicAccessBlock"])]),
    service!("CloudTrail", "cloudtrail", [op!("DescribeTrails"), op!("GetTrailStatus"), op!("GetEventSelectors"), op!("ListTags")]),
    service!("GuardDuty", "guardduty", [op!("ListDetectors"), op!("GetDetector")]),
    service!("Config Service", "config", [op!("DescribeConfigurationRecorders"), op!("DescribeConfigurationRecorderStatus"), op!("DescribeDeliveryChannels")]),
];

/// Every operation provisioning, planning, destroying and the stack lock call. `Named`: the
/// resource has a name the stack chooses (`<project>-<stack>-…`, `/<project>/<stack>/…`), so the
/// statement lists the stack's name patterns. `Tagged`: the resource has an id AWS chooses and
/// the action is a deletion or detachment of something that already carries the stack's tag, so
/// the statement requires `aws:ResourceTag/tapaudit:stack`. `Any`: IAM has no resource-level
/// permission for the action (Describe/List), or the resource's id does not exist before the
/// call (creating a VPC, a key, a file system). Reads of resources with ids AWS chooses are
/// `Any` too: finding the stack's own means reading every candidate's tags first (ListKeys, then
/// ListResourceTags of each), and a refused read of someone else's key would stop provisioning.
pub const PROVISION: &[Service] = &[
    service!("STS", "sts", [Op { name: "GetCallerIdentity", grant: Grant::Nothing, target: Target::Any }]),
    service!(
        "KMS",
        "kms",
        [
            op!("ListKeys"),
            op!("ListAliases"),
            op!("CreateKey"),
            op!("DescribeKey"),
            op!("GetKeyPolicy"),
            op!("GetKeyRotationStatus"),
            op!("ListResourceTags"),
            op!("PutKeyPolicy" @ Tagged("key")),
            op!("EnableKeyRotation" @ Tagged("key")),
            op!("DisableKeyRotation" @ Tagged("key")),
            op!("TagResource" @ Tagged("key")),
            op!("ScheduleKeyDeletion" @ Tagged("key")),
            op!("CreateAlias" => ["kms:CreateAlias"] @ Named("alias")),
            op!("UpdateAlias" => ["kms:UpdateAlias"] @ Named("alias")),
            op!("DeleteAlias" => ["kms:DeleteAlias"] @ Named("alias")),
        ]
    ),
    service!(
        "EC2",
        "ec2",
        [
            op!("DescribeVpcs"),
            op!("DescribeVpcAttribute"),
            op!("DescribeSubnets"),
            op!("DescribeSecurityGroups"),
            op!("DescribeRouteTables"),
            op!("DescribeInternetGateways"),
            op!("DescribeNatGateways"),
            op!("DescribeAddresses"),
            op!("DescribeFlowLogs"),
            op!("DescribeAvailabilityZones"),
            op!("CreateVpc"),
            op!("CreateSubnet"),
            op!("CreateSecurityGroup"),
            op!("CreateRouteTable"),
            op!("CreateInternetGateway"),
            op!("CreateNatGateway"),
            op!("AllocateAddress"),
            op!("CreateFlowLogs"),
            op!("CreateTags"),
            op!("CreateRoute"),
            op!("AttachInternetGateway"),
            op!("AssociateRouteTable"),
            op!("ModifyVpcAttribute"),
            op!("ModifySubnetAttribute"),
            op!("AuthorizeSecurityGroupIngress"),
            op!("AuthorizeSecurityGroupEgress"),
            op!("ReplaceRoute"),
            op!("ReplaceRouteTableAssociation"),
            op!("RevokeSecurityGroupIngress" @ Tagged("ec2")),
            op!("RevokeSecurityGroupEgress" @ Tagged("ec2")),
            op!("DeleteRoute" @ Tagged("ec2")),
            op!("DisassociateRouteTable" @ Tagged("ec2")),
            op!("DetachInternetGateway" @ Tagged("ec2")),
            op!("DisassociateAddress" @ Tagged("ec2")),
            op!("ReleaseAddress" @ Tagged("ec2")),
            op!("DeleteNatGateway" @ Tagged("ec2")),
            op!("DeleteInternetGateway" @ Tagged("ec2")),
            op!("DeleteRouteTable" @ Tagged("ec2")),
            op!("DeleteSecurityGroup" @ Tagged("ec2")),
            op!("DeleteSubnet" @ Tagged("ec2")),
            op!("DeleteFlowLogs" @ Tagged("ec2")),
            op!("DeleteVpc" @ Tagged("ec2")),
        ]
    ),
    service!(
        "RDS",
        "rds",
        [
            op!("DescribeDBInstances"),
            op!("DescribeDBClusters"),
            op!("DescribeDBParameterGroups"),
            op!("DescribeDBParameters"),
            op!("DescribeDBClusterParameterGroups"),
            op!("DescribeDBClusterParameters"),
            op!("DescribeDBSubnetGroups"),
            op!("ListTagsForResource" @ Named("rds")),
            op!("AddTagsToResource" @ Named("rds")),
            op!("CreateDBSubnetGroup" @ Named("rds")),
            op!("ModifyDBSubnetGroup" @ Named("rds")),
            op!("DeleteDBSubnetGroup" @ Named("rds")),
            op!("CreateDBParameterGroup" @ Named("rds")),
            op!("ModifyDBParameterGroup" @ Named("rds")),
            op!("DeleteDBParameterGroup" @ Named("rds")),
            op!("CreateDBClusterParameterGroup" @ Named("rds")),
            op!("ModifyDBClusterParameterGroup" @ Named("rds")),
            op!("DeleteDBClusterParameterGroup" @ Named("rds")),
            // ManageMasterUserPassword: RDS creates the master secret (rds!…) with the caller's
            // permissions, encrypted with the stack's key
            op!("CreateDBInstance" => ["rds:CreateDBInstance", "secretsmanager:CreateSecret", "secretsmanager:TagResource", "kms:DescribeKey", "kms:GenerateDataKey", "kms:Decrypt"] @ Named("rds")),
            op!("ModifyDBInstance" => ["rds:ModifyDBInstance", "secretsmanager:CreateSecret", "secretsmanager:TagResource", "secretsmanager:RotateSecret", "kms:DescribeKey", "kms:GenerateDataKey", "kms:Decrypt"] @ Named("rds")),
            // with a final snapshot, AWS also authorizes rds:CreateDBSnapshot on it; the master
            // secret goes with the database
            op!("DeleteDBInstance" => ["rds:DeleteDBInstance", "rds:CreateDBSnapshot", "secretsmanager:DeleteSecret"] @ Named("rds")),
            op!("CreateDBCluster" => ["rds:CreateDBCluster", "secretsmanager:CreateSecret", "secretsmanager:TagResource", "kms:DescribeKey", "kms:GenerateDataKey", "kms:Decrypt"] @ Named("rds")),
            op!("ModifyDBCluster" => ["rds:ModifyDBCluster", "secretsmanager:CreateSecret", "secretsmanager:TagResource", "secretsmanager:RotateSecret", "kms:DescribeKey", "kms:GenerateDataKey", "kms:Decrypt"] @ Named("rds")),
            op!("DeleteDBCluster" => ["rds:DeleteDBCluster", "rds:CreateDBClusterSnapshot", "secretsmanager:DeleteSecret"] @ Named("rds")),
        ]
    ),
    service!(
        "Kinesis",
        "kinesis",
        [
            op!("DescribeStreamSummary" @ Named("kinesis")),
            op!("ListTagsForStream" @ Named("kinesis")),
            op!("CreateStream" @ Named("kinesis")),
            op!("AddTagsToStream" @ Named("kinesis")),
            op!("StartStreamEncryption" @ Named("kinesis")),
            op!("IncreaseStreamRetentionPeriod" @ Named("kinesis")),
            op!("EnableEnhancedMonitoring" @ Named("kinesis")),
            op!("DeleteStream" @ Named("kinesis")),
        ]
    ),
    service!(
        "CloudWatch Logs",
        "logs",
        [
            op!("DescribeLogGroups"),
            op!("ListTagsForResource" @ Named("logs")),
            op!("CreateLogGroup" @ Named("logs")),
            op!("PutRetentionPolicy" @ Named("logs")),
            op!("AssociateKmsKey" @ Named("logs")),
            op!("TagResource" @ Named("logs")),
            op!("UntagResource" @ Named("logs")),
            op!("DeleteLogGroup" @ Named("logs")),
        ]
    ),
    // the database's master secret is created and rotated by RDS (ManageMasterUserPassword);
    // tapaudit only reads its metadata and sets its rotation schedule, never its value
    service!(
        "Secrets Manager",
        "secretsmanager",
        [op!("DescribeSecret" @ Named("secret")), op!("TagResource" @ Named("secret")), op!("RotateSecret" @ Named("secret"))]
    ),
    service!(
        "ECS",
        "ecs",
        [
            op!("DescribeClusters" @ Named("ecs")),
            op!("DescribeServices" @ Named("ecs")),
            op!("DescribeTaskDefinition"),
            op!("ListTaskDefinitions"),
            op!("RegisterTaskDefinition"),
            op!("DeregisterTaskDefinition"),
            op!("DeleteTaskDefinitions" @ Named("ecs")),
            op!("CreateCluster" @ Named("ecs")),
            op!("UpdateCluster" @ Named("ecs")),
            op!("DeleteCluster" @ Named("ecs")),
            op!("CreateService" @ Named("ecs")),
            op!("UpdateService" @ Named("ecs")),
            op!("DeleteService" @ Named("ecs")),
            op!("TagResource" @ Named("ecs")),
        ]
    ),
    service!(
        "API Gateway",
        "apigateway",
        [
            op!("GetRestApis" => ["apigateway:GET"] @ Named("apigateway")),
            op!("GetResources" => ["apigateway:GET"] @ Named("apigateway")),
            op!("GetMethod" => ["apigateway:GET"] @ Named("apigateway")),
            op!("GetStage" => ["apigateway:GET"] @ Named("apigateway")),
            op!("GetAccount" => ["apigateway:GET"] @ Named("apigateway")),
            op!("CreateRestApi" => ["apigateway:POST"] @ Named("apigateway")),
            op!("CreateResource" => ["apigateway:POST"] @ Named("apigateway")),
            op!("CreateDeployment" => ["apigateway:POST"] @ Named("apigateway")),
            op!("CreateStage" => ["apigateway:POST"] @ Named("apigateway")),
            op!("PutMethod" => ["apigateway:PUT"] @ Named("apigateway")),
            op!("PutIntegration" => ["apigateway:PUT"] @ Named("apigateway")),
            op!("PutMethodResponse" => ["apigateway:PUT"] @ Named("apigateway")),
            op!("PutIntegrationResponse" => ["apigateway:PUT"] @ Named("apigateway")),
            op!("TagResource" => ["apigateway:PUT"] @ Named("apigateway")),
            op!("UpdateMethod" => ["apigateway:PATCH"] @ Named("apigateway")),
            op!("UpdateStage" => ["apigateway:PATCH"] @ Named("apigateway")),
            // sets the account's CloudWatch role: passing it is granted for the stack's roles only
            op!("UpdateAccount" => ["apigateway:PATCH"] @ Named("apigateway")),
            op!("DeleteRestApi" => ["apigateway:DELETE"] @ Named("apigateway")),
        ]
    ),
    service!(
        "ElastiCache",
        "elasticache",
        [
            op!("DescribeReplicationGroups"),
            op!("DescribeCacheSubnetGroups"),
            op!("DescribeUsers"),
            op!("DescribeUserGroups"),
            op!("ListTagsForResource" @ Named("elasticache")),
            op!("AddTagsToResource" @ Named("elasticache")),
            op!("CreateCacheSubnetGroup" @ Named("elasticache")),
            op!("DeleteCacheSubnetGroup" @ Named("elasticache")),
            op!("CreateUser" @ Named("elasticache")),
            op!("CreateUserGroup" @ Named("elasticache")),
            op!("ModifyUser" @ Named("elasticache")),
            op!("ModifyUserGroup" @ Named("elasticache")),
            op!("DeleteUserGroup" @ Named("elasticache")),
            op!("DeleteUser" @ Named("elasticache")),
            op!("CreateReplicationGroup" @ Named("elasticache")),
            op!("ModifyReplicationGroup" @ Named("elasticache")),
            op!("DeleteReplicationGroup" @ Named("elasticache")),
        ]
    ),
    service!(
        "EFS",
        "elasticfilesystem",
        [
            op!("DescribeFileSystems"),
            op!("DescribeAccessPoints"),
            op!("DescribeBackupPolicy"),
            op!("DescribeFileSystemPolicy"),
            op!("DescribeLifecycleConfiguration"),
            op!("DescribeMountTargets"),
            op!("DescribeMountTargetSecurityGroups" => ["elasticfilesystem:DescribeMountTargetSecurityGroups", "ec2:DescribeNetworkInterfaceAttribute"]),
            op!("CreateFileSystem"),
            op!("CreateAccessPoint"),
            op!("CreateMountTarget" => ["elasticfilesystem:CreateMountTarget", "ec2:DescribeSubnets", "ec2:DescribeNetworkInterfaces", "ec2:CreateNetworkInterface"]),
            op!("TagResource" @ Tagged("efs")),
            op!("PutFileSystemPolicy" @ Tagged("efs")),
            op!("PutLifecycleConfiguration" @ Tagged("efs")),
            op!("UpdateFileSystem" @ Tagged("efs")),
            op!("ModifyMountTargetSecurityGroups" => ["elasticfilesystem:ModifyMountTargetSecurityGroups", "ec2:ModifyNetworkInterfaceAttribute"] @ Tagged("efs")),
            op!("DeleteMountTarget" => ["elasticfilesystem:DeleteMountTarget", "ec2:DeleteNetworkInterface"] @ Tagged("efs")),
            op!("DeleteAccessPoint" @ Tagged("efs")),
            op!("DeleteFileSystem" @ Tagged("efs")),
        ]
    ),
    service!(
        "Elastic Load Balancing v2",
        "elasticloadbalancing",
        [
            op!("DescribeLoadBalancers"),
            op!("DescribeLoadBalancerAttributes"),
            op!("DescribeListeners"),
            op!("DescribeRules"),
            op!("DescribeTags"),
            op!("DescribeTargetGroups"),
            op!("CreateLoadBalancer" @ Named("elb")),
            op!("CreateTargetGroup" @ Named("elb")),
            op!("CreateListener" @ Named("elb")),
            op!("AddTags" @ Named("elb")),
            op!("ModifyLoadBalancerAttributes" @ Named("elb")),
            op!("DeleteListener" @ Named("elb")),
            op!("DeleteTargetGroup" @ Named("elb")),
            op!("DeleteLoadBalancer" @ Named("elb")),
        ]
    ),
    service!(
        "ACM",
        "acm",
        [
            op!("ListCertificates"),
            op!("RequestCertificate"),
            op!("DescribeCertificate"),
            op!("ListTagsForCertificate"),
            op!("DeleteCertificate" @ Tagged("acm")),
        ]
    ),
    service!(
        "IAM",
        "iam",
        [
            op!("ListRoles"),
            op!("GetRole" @ Named("role")),
            op!("CreateRole" @ Named("role")),
            op!("TagRole" @ Named("role")),
            op!("UpdateAssumeRolePolicy" @ Named("role")),
            op!("GetRolePolicy" @ Named("role")),
            op!("PutRolePolicy" @ Named("role")),
            op!("DeleteRolePolicy" @ Named("role")),
            op!("ListRolePolicies" @ Named("role")),
            op!("ListAttachedRolePolicies" @ Named("role")),
            op!("AttachRolePolicy" @ Named("role")),
            op!("DetachRolePolicy" @ Named("role")),
            op!("DeleteRole" @ Named("role")),
        ]
    ),
    service!(
        "S3",
        "s3",
        [
            op!("ListBuckets" => ["s3:ListAllMyBuckets"]),
            op!("HeadBucket" => ["s3:ListBucket"] @ Named("s3")),
            op!("CreateBucket" @ Named("s3")),
            op!("GetBucketTagging" @ Named("s3")),
            op!("PutBucketTagging" @ Named("s3")),
            op!("GetBucketPolicy" @ Named("s3")),
            op!("PutBucketPolicy" @ Named("s3")),
            op!("GetBucketEncryption" => ["s3:GetEncryptionConfiguration"] @ Named("s3")),
            op!("PutBucketEncryption" => ["s3:PutEncryptionConfiguration"] @ Named("s3")),
            op!("GetPublicAccessBlock" => ["s3:GetBucketPublicAccessBlock"] @ Named("s3")),
            op!("PutPublicAccessBlock" => ["s3:PutBucketPublicAccessBlock"] @ Named("s3")),
            op!("GetBucketOwnershipControls" @ Named("s3")),
            op!("PutBucketOwnershipControls" @ Named("s3")),
            op!("GetBucketLifecycleConfiguration" => ["s3:GetLifecycleConfiguration"] @ Named("s3")),
            op!("PutBucketLifecycleConfiguration" => ["s3:PutLifecycleConfiguration"] @ Named("s3")),
            op!("ListObjectsV2" => ["s3:ListBucket"] @ Named("s3")),
            op!("ListObjectVersions" => ["s3:ListBucketVersions"] @ Named("s3")),
            op!("DeleteObjects" => ["s3:DeleteObject", "s3:DeleteObjectVersion"] @ Named("s3")),
            op!("DeleteBucket" @ Named("s3")),
        ]
    ),
];

/// The entry of `registry` for one SDK operation.
pub fn find<'a>(registry: &'a [Service], sdk_service: &str, operation: &str) -> Option<(&'a Service, &'a Op)> {
    registry.iter().filter(|s| s.sdk == sdk_service).find_map(|s| s.ops.iter().find(|o| o.name == operation).map(|o| (s, o)))
}

/// The calls of a multi-account scan made with the runner's own credentials, before any
/// account is scanned: the member accounts of the organization and the role to assume in each.
/// They are not in [`SCAN`]: the audit role in each account needs neither (and must not be able
/// to assume roles); `tapaudit policy orchestrate` prints the runner's policy from this list.
pub const ORCHESTRATE: &[Service] = &[
    service!("STS", "sts", [Op { name: "GetCallerIdentity", grant: Grant::Nothing, target: Target::Any }, op!("AssumeRole" @ Named("audit-role"))]),
    service!("Organizations", "organizations", [op!("ListAccounts")]),
];

/// Refuses, before it is signed or sent, any operation `registry` does not list: the clients
/// that carry it can call nothing the generated policy does not grant.
#[derive(Debug, Clone, Copy)]
pub struct RegisteredOnly {
    pub registry: &'static [Service],
    pub what: &'static str,
}

/// The error of a refused operation.
#[derive(Debug)]
pub struct Unregistered {
    pub service: String,
    pub operation: String,
    pub what: &'static str,
}

impl std::fmt::Display for Unregistered {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} {} is not in the {} operation registry (src/aws/operations.rs), so the generated policy would not grant it; refused",
            self.service, self.operation, self.what
        )
    }
}

impl std::error::Error for Unregistered {}

impl Intercept for RegisteredOnly {
    fn name(&self) -> &'static str {
        "tapaudit registered operations only"
    }

    fn read_before_serialization(&self, _: &BeforeSerializationInterceptorContextRef<'_>, _: &RuntimeComponents, cfg: &mut ConfigBag) -> Result<(), BoxError> {
        let Some(meta) = cfg.load::<Metadata>() else {
            return Err(Box::new(Unregistered { service: "?".into(), operation: "?".into(), what: self.what }));
        };
        match find(self.registry, meta.service(), meta.name()) {
            Some(_) => Ok(()),
            None => Err(Box::new(Unregistered { service: meta.service().to_string(), operation: meta.name().to_string(), what: self.what })),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const READ_VERBS: &[&str] = &["Describe", "List", "Get", "Head", "Lookup"];

    #[test]
    fn the_scan_registry_holds_reads_only_and_never_a_secret_or_a_decrypt() {
        for s in SCAN {
            for o in s.ops {
                assert!(READ_VERBS.iter().any(|v| o.name.starts_with(v)), "{} {} is not a read", s.sdk, o.name);
                for a in o.actions(s.prefix) {
                    assert!(!a.contains('*'), "{a}: wildcard action");
                    let (_, name) = a.split_once(':').expect("prefix:name");
                    assert!(READ_VERBS.iter().any(|v| name.starts_with(v)) || a == "apigateway:GET", "{a} is not a read action");
                    for forbidden in ["GetSecretValue", "Decrypt", "GenerateDataKey", "GetObject", "BatchGetSecretValue", "GetParameter"] {
                        assert!(!name.contains(forbidden), "{a} reads data or secrets");
                    }
                }
            }
        }
    }

    #[test]
    fn every_operation_is_registered_once() {
        for registry in [SCAN, PROVISION] {
            let mut seen = std::collections::BTreeSet::new();
            for s in registry {
                for o in s.ops {
                    assert!(seen.insert((s.sdk, o.name)), "{} {} twice", s.sdk, o.name);
                }
            }
        }
    }

    #[test]
    fn discovery_reads_are_never_limited_by_a_tag_they_have_not_read_yet() {
        for s in PROVISION {
            for o in s.ops.iter().filter(|o| READ_VERBS.iter().any(|v| o.name.starts_with(v))) {
                assert!(!matches!(o.target, Target::Tagged(_)), "{} {}: a read scoped by tag", s.sdk, o.name);
            }
        }
    }

    #[test]
    fn lookups_use_the_sdk_service_name() {
        assert!(find(SCAN, "S3", "GetPublicAccessBlock").is_some());
        assert_eq!(find(SCAN, "S3 Control", "GetPublicAccessBlock").map(|(_, o)| o.actions("s3")), Some(vec!["s3:GetAccountPublicAccessBlock".to_string()]));
        assert!(find(SCAN, "EC2", "CreateVpc").is_none());
        assert!(find(SCAN, "Secrets Manager", "GetSecretValue").is_none());
        assert!(find(SCAN, "ec2", "DescribeVpcs").is_none(), "service names are the SDK's, case included");
    }
}
