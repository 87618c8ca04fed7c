//! `photoscale infra plan|up|status|down --target aws`: flags to `AwsOptions`,
//! then the AWS provider of the photoscale-infra crate (cargo feature `aws`).

use std::path::Path;

use super::args::{AwsDownArgs, AwsStackArgs, StackArgs, TargetArgs};

/// What a build without the AWS provider says to `--target aws`.
pub const AWS_FEATURE_MISSING: &str = "this photoscale was built without the AWS provider (the AWS SDK takes many minutes to compile, so it is optional)\n  fix: build with it: `cargo build --release --features aws`, then run target/release/photoscale";

#[cfg(not(feature = "aws"))]
pub use without_sdk::{deploy, down, plan, status, up};

/// Every command says how to get the provider.
#[cfg(not(feature = "aws"))]
mod without_sdk {
    use super::*;

    pub async fn plan(
        _: u8,
        _: &StackArgs,
        _: &TargetArgs,
        _: &AwsStackArgs,
        _: &Path,
        _: bool,
    ) -> anyhow::Result<()> {
        anyhow::bail!(AWS_FEATURE_MISSING)
    }

    pub async fn up(
        _: u8,
        _: &StackArgs,
        _: &TargetArgs,
        _: &AwsStackArgs,
        _: &Path,
    ) -> anyhow::Result<()> {
        anyhow::bail!(AWS_FEATURE_MISSING)
    }

    pub async fn status(_: &TargetArgs, _: &Path, _: bool) -> anyhow::Result<()> {
        anyhow::bail!(AWS_FEATURE_MISSING)
    }

    pub async fn deploy(
        _: &StackArgs,
        _: &TargetArgs,
        _: &AwsStackArgs,
        _: &Path,
    ) -> anyhow::Result<()> {
        anyhow::bail!(AWS_FEATURE_MISSING)
    }

    pub async fn down(_: &TargetArgs, _: &AwsDownArgs, _: &Path) -> anyhow::Result<()> {
        anyhow::bail!(AWS_FEATURE_MISSING)
    }
}

#[cfg(feature = "aws")]
pub use with_sdk::{deploy, down, options, plan, status, up};

#[cfg(feature = "aws")]
mod with_sdk {
    use super::*;
    use crate::commands::output::print_stdout;
    use photoscale_infra::aws::{self, AppSource, AwsOptions, Connection, Os};
    use photoscale_infra::spec::{StackSpec, Target};

    pub fn options(target: &TargetArgs, state_dir: &Path) -> AwsOptions {
        let connection = Connection {
            region: target.region.clone(),
            profile: target.profile.clone(),
            endpoint_url: target.endpoint_url.clone(),
            static_credentials: None,
        };
        AwsOptions::new(target.stack_name.clone(), connection, state_dir.to_owned())
    }

    fn stack_options(
        target: &TargetArgs,
        args: &AwsStackArgs,
        stack: &StackArgs,
        state_dir: &Path,
    ) -> AwsOptions {
        let mut options = options(target, state_dir);
        options.app = AppSource {
            binary: args.app_binary.clone().or_else(|| {
                // This very program, when the instances can run it.
                let linux_x86_64 = cfg!(all(target_os = "linux", target_arch = "x86_64"));
                (args.app_url.is_none() && linux_x86_64)
                    .then(|| std::env::current_exe().ok())
                    .flatten()
            }),
            url: args.app_url.clone(),
            sha256: args.app_sha256.clone(),
        };
        options.ami = args.ami.clone();
        options.os = match args.os {
            crate::commands::infra::args::OsArg::AmazonLinux => Os::AmazonLinux,
            crate::commands::infra::args::OsArg::Ubuntu => Os::Ubuntu,
        };
        options.instance_type = args.instance_type.clone();
        options.vpc = args.vpc.clone();
        options.certificate_arn = args.certificate_arn.clone();
        options.notify_email = args.notify_email.clone();
        options.notify_topic_arn = args.notify_topic.clone();
        options.db_instance_class = args.db_instance_class.clone();
        options.cache_node_type = args.cache_node_type.clone();
        options.nfs = args.nfs.clone();
        options.ssm_access = args.ssm_access;
        options.desired_given = stack.desired.is_some();
        options
    }

    fn spec(level: u8, stack: &StackArgs) -> anyhow::Result<StackSpec> {
        Ok(StackSpec::for_level(
            level,
            Target::Aws,
            &stack.overrides(),
        )?)
    }

    pub async fn plan(
        level: u8,
        stack: &StackArgs,
        target: &TargetArgs,
        args: &AwsStackArgs,
        state_dir: &Path,
        json: bool,
    ) -> anyhow::Result<()> {
        show_warnings();
        let spec = spec(level, stack)?;
        let options = stack_options(target, args, stack, state_dir);
        let (found, changes) = aws::plan(&spec, &options).await?;
        let estimate = aws::cost::estimate(&spec, &options, &found.region);
        if json {
            let value = serde_json::json!({ "spec": spec, "found": found, "changes": changes, "estimate": estimate });
            print_stdout(&format!("{}\n", serde_json::to_string_pretty(&value)?));
            return Ok(());
        }
        let mut text = format!(
            "Level {level} on AWS: stack {} in {}\n",
            options.stack, found.region
        );
        text.push_str(&summary(&spec));
        text.push_str(&aws::plan::render(&changes));
        text.push_str(&aws::cost::render(&estimate, spec.scaling.is_some()));
        print_stdout(&text);
        Ok(())
    }

    /// The level's numbers, as `up` will set them.
    fn summary(spec: &StackSpec) -> String {
        let fleet = spec.fleet;
        let mut text = format!(
            "  fleet: min {} desired {} max {}; sessions {:?}, storage {:?}, cache {:?}\n",
            fleet.min, fleet.desired, fleet.max, spec.sessions, spec.storage, spec.cache
        );
        if let Some(lb) = &spec.load_balancer {
            let hc = &lb.health_check;
            text.push_str(&format!(
                "  health check: GET {} every {} s, healthy after {}, unhealthy after {}\n",
                hc.path,
                hc.interval_ms / 1000,
                hc.rise,
                hc.fall
            ));
        }
        if let Some(scaling) = &spec.scaling {
            for alarm in &scaling.alarms {
                text.push_str(&format!(
                    "  alarm {}: {} {} {:?} {} ms for {} × {} s → {:+} instance, cooldown {} s\n",
                    alarm.name,
                    alarm.statistic,
                    alarm.metric,
                    alarm.comparison,
                    alarm.threshold_ms,
                    alarm.evaluation_periods,
                    alarm.period_s,
                    alarm.adjustment,
                    scaling.cooldown_s
                ));
            }
        }
        text
    }

    pub async fn up(
        level: u8,
        stack: &StackArgs,
        target: &TargetArgs,
        args: &AwsStackArgs,
        state_dir: &Path,
    ) -> anyhow::Result<()> {
        show_warnings();
        let spec = spec(level, stack)?;
        let options = stack_options(target, args, stack, state_dir);
        eprintln!(
            "Bringing up level {level} on AWS as stack {}:",
            options.stack
        );
        let report = aws::up(&spec, &options).await?;
        if report.changed_nothing() {
            eprintln!(
                "Nothing to change: stack {} already is level {level}.",
                options.stack
            );
        } else {
            let made: Vec<String> = report
                .changes
                .iter()
                .filter(|c| c.action != aws::Action::Keep)
                .map(|c| c.to_string())
                .collect();
            eprintln!("{}", made.join("\n"));
        }
        print_stdout(&format!("{}\n", report.url.unwrap_or_default()));
        Ok(())
    }

    /// A new build for the stack at its own level: `up` with the binary,
    /// which replaces the instances (an instance refresh at level 3+, new
    /// instances healthy before old ones leave below; see the provider).
    pub async fn deploy(
        stack: &StackArgs,
        target: &TargetArgs,
        args: &AwsStackArgs,
        state_dir: &Path,
    ) -> anyhow::Result<()> {
        let found = aws::status(&options(target, state_dir)).await?;
        let Some(level) = found.level else {
            anyhow::bail!(
                "stack {} has no instances to deploy to\n  fix: photoscale infra up --target aws --level N --stack {}",
                target.stack_name,
                target.stack_name
            );
        };
        if level == 0 {
            eprintln!("Level 0 has one instance: the site is down, and its address changes, until the new one answers.");
        }
        up(level, stack, target, args, state_dir).await
    }

    pub async fn status(target: &TargetArgs, state_dir: &Path, json: bool) -> anyhow::Result<()> {
        let found = aws::status(&options(target, state_dir)).await?;
        if json {
            print_stdout(&format!("{}\n", serde_json::to_string_pretty(&found)?));
        } else {
            print_stdout(&found.render());
        }
        Ok(())
    }

    pub async fn down(
        target: &TargetArgs,
        args: &AwsDownArgs,
        state_dir: &Path,
    ) -> anyhow::Result<()> {
        show_warnings();
        let mut options = options(target, state_dir);
        options.final_snapshot = args.final_snapshot;
        let found = aws::status(&options).await?;
        if found.is_empty() {
            eprintln!("Nothing of stack {} was found.", options.stack);
            return Ok(());
        }
        eprint!("{}", aws::down_warning(&found, args.final_snapshot));
        if !args.yes {
            confirm(options.stack.as_str()).await?;
        }
        let report = aws::down(&options).await?;
        for line in &report.deleted {
            eprintln!("  deleted  {line}");
        }
        Ok(())
    }

    /// The provider's own warnings (e.g. what `plan` cannot check) on
    /// stderr, beside its progress; stdout keeps only the command's answer.
    fn show_warnings() {
        let subscriber = tracing_subscriber::fmt()
            .with_writer(std::io::stderr)
            .with_env_filter(tracing_subscriber::EnvFilter::new("photoscale_infra=warn"))
            .without_time()
            .with_target(false)
            .finish();
        // Only one command runs per process: nothing was set before.
        let _ = tracing::subscriber::set_global_default(subscriber);
    }

    /// Asks for the stack's name on a terminal; refuses without one.
    async fn confirm(stack: &str) -> anyhow::Result<()> {
        use std::io::{BufRead, IsTerminal, Write};
        if !std::io::stdin().is_terminal() {
            anyhow::bail!(
                "nothing was deleted: `down` asks for confirmation and stdin is not a terminal\n  fix: check the account and region above, then pass --yes"
            );
        }
        let stack = stack.to_owned();
        let answer = tokio::task::spawn_blocking(move || {
            eprint!("Type the stack's name ({stack}) to delete it: ");
            let _ = std::io::stderr().flush();
            let mut line = String::new();
            std::io::stdin()
                .lock()
                .read_line(&mut line)
                .map(|_| (line, stack))
        })
        .await??;
        let (line, stack) = answer;
        if line.trim() != stack {
            anyhow::bail!(
                "not confirmed ({:?} is not {stack:?}): nothing was deleted",
                line.trim()
            );
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_missing_feature_says_how_to_build_it() {
        assert!(super::AWS_FEATURE_MISSING.contains("--features aws"));
    }
}
