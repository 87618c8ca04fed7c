//! Whether a resource is the stack's: EC2 filtered by the stack tag, and
//! elsewhere the tag checked, so a stranger's resource of the same name is
//! never taken for ours.

use aws_sdk_ec2::types::Filter;

use super::error::AwsError;
use super::names::{StackName, STACK_TAG};

pub fn stack_filter(stack: &StackName) -> Filter {
    Filter::builder()
        .name(format!("tag:{STACK_TAG}"))
        .values(stack.as_str())
        .build()
}

pub fn not_ours(kind: &str, name: &str, stack: &StackName) -> AwsError {
    AwsError::Invalid(format!(
        "a {kind} named {name} exists but is not tagged {STACK_TAG}={stack}, so photoscale will not touch it\n  fix: choose another --stack name, or delete or rename that {kind}"
    ))
}

pub fn has_stack_tag<'a>(
    mut tags: impl Iterator<Item = (&'a str, &'a str)>,
    stack: &StackName,
) -> bool {
    tags.any(|(k, v)| k == STACK_TAG && v == stack.as_str())
}
