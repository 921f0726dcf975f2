"""AWS Batch resources: where jobs run in the cloud, rendered into template.json.

One Fargate Spot compute environment (small vCPU ceiling, so a runaway sweep
cannot run up a bill), one job queue, and a job definition per job type of the
batch image (`batch_jobs/Dockerfile`), each with its own size and time limit.
The launcher (`chalicelib.launchers.BatchLauncher`) submits to
`localbubble-<stage>-jobs` with definition `localbubble-<stage>-<type>`.

Batch retries only a task that never started (Fargate could not place or pull
it): the job was still queued, so its runner can claim it. Any other end is the
job runner's to judge: it records the failure and retries with back-off, since a
second Batch attempt would find its job no longer queued.
"""

from __future__ import annotations

from dataclasses import dataclass

# The most vCPUs running at once across every job (Fargate Spot, on demand).
MAX_VCPUS = 8
LOG_RETENTION_DAYS = 30


@dataclass(frozen=True)
class JobSize:
    """A job type's Fargate size and time limit."""

    vcpu: str
    memory_mib: int
    timeout_s: int


# Fargate sizes come in fixed vCPU/memory pairs (0.25 to 16 vCPU).
JOB_SIZES = {
    "build": JobSize("2", 8192, 2 * 3600),
    "site": JobSize("1", 2048, 1800),
    "simulation": JobSize("2", 4096, 6 * 3600),
    "comparison": JobSize("1", 4096, 3600),
    "backup": JobSize("0.5", 2048, 3600),
    "restore": JobSize("0.5", 2048, 2 * 3600),
}


def _sub(text: str) -> dict:
    return {"Fn::Sub": text}


def _assume(service: str) -> dict:
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": service},
                "Action": "sts:AssumeRole",
            }
        ],
    }


def _job_policy() -> dict:
    """What a job's code may do: the stage's tables, buckets and its own logs."""
    tables = "arn:${AWS::Partition}:dynamodb:${AWS::Region}:${AWS::AccountId}:table"
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "StageTables",
                "Effect": "Allow",
                "Action": [
                    "dynamodb:GetItem",
                    "dynamodb:PutItem",
                    "dynamodb:UpdateItem",
                    "dynamodb:DeleteItem",
                    "dynamodb:Query",
                    "dynamodb:Scan",
                    "dynamodb:BatchWriteItem",
                    "dynamodb:BatchGetItem",
                    "dynamodb:DescribeTable",
                ],  # fmt: skip
                "Resource": [
                    _sub(f"{tables}/localbubble-${{Stage}}-*"),
                    _sub(f"{tables}/localbubble-${{Stage}}-*/index/*"),
                ],
            },
            {
                # Restores and drills make new tables under the stage's prefix
                # (localbubble-<stage>-<something>-<table>), never other stages'.
                "Sid": "RestoreTables",
                "Effect": "Allow",
                "Action": ["dynamodb:CreateTable", "dynamodb:DeleteTable"],
                "Resource": _sub(f"{tables}/localbubble-${{Stage}}-*-*"),
            },
            {
                "Sid": "Objects",
                "Effect": "Allow",
                "Action": ["s3:GetObject", "s3:PutObject"],
                "Resource": [
                    _sub("arn:${AWS::Partition}:s3:::localbubble-${Stage}-builds/*"),
                    _sub("arn:${AWS::Partition}:s3:::localbubble-${Stage}-sources/*"),
                ],
            },
            {
                "Sid": "Listing",
                "Effect": "Allow",
                "Action": "s3:ListBucket",
                "Resource": [
                    _sub("arn:${AWS::Partition}:s3:::localbubble-${Stage}-builds"),
                    _sub("arn:${AWS::Partition}:s3:::localbubble-${Stage}-sources"),
                ],
            },
        ],
    }


def _roles() -> dict:
    return {
        "BatchExecutionRole": {
            "Type": "AWS::IAM::Role",
            "Properties": {
                "AssumeRolePolicyDocument": _assume("ecs-tasks.amazonaws.com"),
                "ManagedPolicyArns": [
                    _sub(
                        "arn:${AWS::Partition}:iam::aws:policy/service-role/"
                        "AmazonECSTaskExecutionRolePolicy"
                    )
                ],
            },
        },
        "BatchJobRole": {
            "Type": "AWS::IAM::Role",
            "Properties": {
                "AssumeRolePolicyDocument": _assume("ecs-tasks.amazonaws.com"),
                "Policies": [
                    {"PolicyName": "localbubble-jobs", "PolicyDocument": _job_policy()}
                ],
            },
        },
    }


def _definition(job_type: str, size: JobSize) -> dict:
    return {
        "Type": "AWS::Batch::JobDefinition",
        "Properties": {
            "JobDefinitionName": _sub(f"localbubble-${{Stage}}-{job_type}"),
            "Type": "container",
            "PlatformCapabilities": ["FARGATE"],
            "PropagateTags": True,
            "Timeout": {"AttemptDurationSeconds": size.timeout_s},
            "RetryStrategy": {
                "Attempts": 3,
                "EvaluateOnExit": [
                    {
                        "OnStatusReason": "ResourceInitializationError*",
                        "Action": "RETRY",
                    },
                    {"OnStatusReason": "CannotPullContainerError*", "Action": "RETRY"},
                    {"OnReason": "*", "Action": "EXIT"},
                ],
            },
            "ContainerProperties": {
                "Image": {"Ref": "BatchImage"},
                "Command": [job_type],
                "ResourceRequirements": [
                    {"Type": "VCPU", "Value": size.vcpu},
                    {"Type": "MEMORY", "Value": str(size.memory_mib)},
                ],
                "ExecutionRoleArn": {"Fn::GetAtt": ["BatchExecutionRole", "Arn"]},
                "JobRoleArn": {"Fn::GetAtt": ["BatchJobRole", "Arn"]},
                "Environment": [
                    {"Name": "LB_STAGE", "Value": {"Ref": "Stage"}},
                    {"Name": "LB_TABLE_PREFIX", "Value": _sub("localbubble-${Stage}")},
                ],
                "NetworkConfiguration": {"AssignPublicIp": "ENABLED"},
                "FargatePlatformConfiguration": {"PlatformVersion": "LATEST"},
                "LogConfiguration": {
                    "LogDriver": "awslogs",
                    "Options": {
                        "awslogs-group": {"Ref": "BatchLogGroup"},
                        "awslogs-region": {"Ref": "AWS::Region"},
                        "awslogs-stream-prefix": job_type,
                    },
                },
            },
        },
    }


def _logical(job_type: str) -> str:
    return "".join(part.title() for part in job_type.split("_")) + "JobDefinition"


def parameters() -> dict:
    """The template parameters the Batch resources need."""
    return {
        "BatchImage": {
            "Type": "String",
            "Description": "URI of the batch image (batch_jobs/Dockerfile) in ECR",
        },
        "BatchSubnets": {
            "Type": "List<AWS::EC2::Subnet::Id>",
            "Description": "Subnets the Fargate tasks run in (with internet access)",
        },
        "BatchSecurityGroups": {
            "Type": "List<AWS::EC2::SecurityGroup::Id>",
            "Description": "Security groups of the Fargate tasks (egress only)",
        },
    }


def resources() -> dict:
    """Compute environment, job queue, job definitions, roles and log group."""
    found = {
        "BatchComputeEnvironment": {
            "Type": "AWS::Batch::ComputeEnvironment",
            "Properties": {
                "Type": "MANAGED",
                "State": "ENABLED",
                "ComputeResources": {
                    "Type": "FARGATE_SPOT",
                    "MaxvCpus": MAX_VCPUS,
                    "Subnets": {"Ref": "BatchSubnets"},
                    "SecurityGroupIds": {"Ref": "BatchSecurityGroups"},
                },
            },
        },
        "BatchJobQueue": {
            "Type": "AWS::Batch::JobQueue",
            "Properties": {
                "JobQueueName": _sub("localbubble-${Stage}-jobs"),
                "Priority": 1,
                "State": "ENABLED",
                "ComputeEnvironmentOrder": [
                    {
                        "Order": 1,
                        "ComputeEnvironment": {"Ref": "BatchComputeEnvironment"},
                    }
                ],
            },
        },
        "BatchLogGroup": {
            "Type": "AWS::Logs::LogGroup",
            "Properties": {
                "LogGroupName": _sub("/localbubble/${Stage}/jobs"),
                "RetentionInDays": LOG_RETENTION_DAYS,
            },
        },
        **_roles(),
    }
    for job_type, size in JOB_SIZES.items():
        found[_logical(job_type)] = _definition(job_type, size)
    return found
