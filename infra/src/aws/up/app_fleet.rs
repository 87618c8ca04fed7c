//! The app's instances in a run of `up`: standalone below level 3 (replaced
//! one at a time behind the load balancer), an Auto Scaling group with its
//! alarms at level 3+.

use super::*;

impl Run<'_> {
    pub(super) async fn blueprint(
        &self,
        security_group: &str,
        profile_arn: String,
        endpoints: &Endpoints,
    ) -> Result<Blueprint, AwsError> {
        let mut intent = Intent::new(
            self.spec,
            self.options,
            &self.clients.region,
            self.wanted.bucket.as_deref(),
        );
        let artifacts_bucket = self
            .options
            .stack
            .artifacts_bucket(&self.clients.account, &self.clients.region);
        if let Some(binary) = self.binary {
            intent.app_object = Some((
                artifacts_bucket.clone(),
                artifacts::object_key(&binary.sha256),
            ));
        }
        if self.wanted.bucket.is_none() {
            intent.backup_bucket = Some(artifacts_bucket);
        }
        let script = Script {
            intent: &intent,
            level: self.spec.level,
            region: &self.clients.region,
            secrets_parameter: &self.options.stack.secrets_parameter(),
            endpoints,
        }
        .render();
        Ok(Blueprint {
            image_id: fleet::image(self.clients, self.options).await?,
            instance_type: self.options.instance_type.clone(),
            profile_arn,
            security_group: security_group.to_owned(),
            subnet_ids: self.network.subnet_ids.clone(),
            user_data: base64::engine::general_purpose::STANDARD.encode(script),
            config: self.wanted.config.clone(),
            level: self.spec.level,
        })
    }

    /// Levels 0 to 2: keep the instances with the wanted configuration, start
    /// the missing ones, and retire the rest once the new ones are healthy.
    pub(super) async fn standalone_fleet(
        &self,
        blueprint: &Blueprint,
        balancer: Option<&Balancer>,
    ) -> Result<(), AwsError> {
        let (clients, options) = (self.clients, self.options);
        let want = self.wanted.instances as usize;
        let (current, stale): (Vec<_>, Vec<_>) = self.found.instances.iter().partition(|i| {
            i.config.as_deref() == Some(&self.wanted.config) && i.state != "stopped"
        });
        let keep: Vec<String> = current.iter().take(want).map(|i| i.id.clone()).collect();
        let mut retire: Vec<String> = current.iter().skip(want).map(|i| i.id.clone()).collect();
        retire.extend(stale.iter().map(|i| i.id.clone()));
        let what = if balancer.is_none() && !retire.is_empty() {
            "app instance (level 0 has no second instance: the site is down, and its address changes, until the new one answers)"
        } else {
            "app instances"
        };
        let step = self.progress.step("instances", what);
        let started = match balancer {
            Some(balancer) => {
                self.replace_behind(balancer, blueprint, &keep, want, &retire, &step)
                    .await?
            }
            None => fleet::launch(clients, options, blueprint, want - keep.len(), &step).await?,
        };
        // Coming down from level 3: the group goes once its replacements serve.
        fleet::delete_scaling(clients, options, self.found, &step).await?;
        fleet::terminate(clients, options, &retire, &step).await?;
        step.done(&format!(
            "{} kept, {} started, {} retired",
            keep.len(),
            started.len(),
            retire.len()
        ));
        Ok(())
    }

    /// Behind the load balancer: new instances join one at a time, each
    /// healthy before the next starts; only then do the old ones leave, one
    /// at a time (drained). A new instance that fails its health check
    /// stops it: the new ones are terminated and the old ones keep serving.
    async fn replace_behind(
        &self,
        balancer: &Balancer,
        blueprint: &Blueprint,
        keep: &[String],
        want: usize,
        retire: &[String],
        step: &crate::progress::Step,
    ) -> Result<Vec<String>, AwsError> {
        let (clients, options) = (self.clients, self.options);
        let target_group = &balancer.target_group;
        if !keep.is_empty() {
            load_balancer::register(clients, target_group, keep).await?;
        }
        let mut started: Vec<String> = Vec::new();
        for n in keep.len()..want {
            let new = fleet::launch_from(clients, options, blueprint, n..n + 1, step).await?;
            started.extend(new.iter().cloned());
            load_balancer::register(clients, target_group, &new).await?;
            let healthy =
                load_balancer::wait_healthy(clients, options, target_group, &new, step).await;
            if let Err(e) = healthy {
                if retire.is_empty() {
                    return Err(e);
                }
                // Roll back: the new instances go, the old keep serving.
                load_balancer::drain(clients, options, target_group, &started, step).await?;
                fleet::terminate(clients, options, &started, step).await?;
                return Err(AwsError::Invalid(format!(
                    "{e}\n  rolled back: the new instances were terminated; the previous ones keep serving"
                )));
            }
        }
        let all: Vec<String> = keep.iter().chain(&started).cloned().collect();
        load_balancer::wait_healthy(clients, options, target_group, &all, step).await?;
        for old in retire {
            load_balancer::drain(
                clients,
                options,
                target_group,
                std::slice::from_ref(old),
                step,
            )
            .await?;
        }
        Ok(started)
    }

    /// Level 3+: launch template, group, alarms and policies; then stale
    /// group instances are rolled and standalone ones retired.
    pub(super) async fn scaling_fleet(
        &self,
        blueprint: &Blueprint,
        balancer: Option<&Balancer>,
    ) -> Result<(), AwsError> {
        let (clients, options, level) = (self.clients, self.options, self.spec.level);
        let (Some(scaling), Some(balancer)) = (&self.spec.scaling, balancer) else {
            return Err(AwsError::Invalid(
                "autoscaling needs the load balancer (level 3+)".into(),
            ));
        };
        let step = self
            .progress
            .step("group", "launch template and Auto Scaling group");
        let template_id = fleet::ensure_launch_template(
            clients,
            &options.stack,
            blueprint,
            &self.found.launch_templates,
        )
        .await?;
        let stale: Vec<String> = self
            .found
            .group_instances
            .iter()
            .filter(|i| i.config.as_deref() != Some(&self.wanted.config))
            .map(|i| i.id.clone())
            .collect();
        // On AWS an instance refresh replaces stale instances, and the group
        // keeps its template until the refresh succeeds (see
        // instance_refresh.rs); moto has no refresh, so there the provider
        // rolls the group itself.
        let refresh = !clients.emulated && !stale.is_empty();
        let group_template = match (refresh, &self.found.auto_scaling_group) {
            (true, Some(group)) => group.template_id.clone().unwrap_or(template_id.clone()),
            _ => template_id.clone(),
        };
        let settings = GroupSettings {
            fleet: self.spec.fleet,
            scaling,
            template_id: &group_template,
            target_group: &balancer.target_group,
        };
        fleet::ensure_group(
            clients,
            options,
            blueprint,
            &settings,
            self.found.auto_scaling_group.as_ref(),
        )
        .await?;
        let topic = alarms::ensure_topic(clients, options, level).await?;
        alarms::ensure_alarms(
            clients,
            options,
            level,
            scaling,
            &balancer.load_balancer.arn,
            &balancer.target_group,
            topic.as_deref(),
        )
        .await?;
        if refresh {
            let warmup = scaling.health_check_grace_period_s;
            instance_refresh::refresh(clients, options, &template_id, warmup, &step).await?;
        } else {
            fleet::wait_group_healthy(clients, options, &balancer.target_group, &stale, &step)
                .await?;
            fleet::roll_group(clients, options, &stale, &balancer.target_group, &step).await?;
        }
        let standalone: Vec<String> = self.found.instances.iter().map(|i| i.id.clone()).collect();
        load_balancer::drain(clients, options, &balancer.target_group, &standalone, &step).await?;
        fleet::terminate(clients, options, &standalone, &step).await?;
        let old: Vec<_> = self
            .found
            .launch_templates
            .iter()
            .filter(|t| t.id != template_id)
            .collect();
        fleet::delete_templates(clients, &old).await?;
        step.done(&format!(
            "group of {}..{}, {} rolled, {} standalone retired",
            self.spec.fleet.min,
            self.spec.fleet.max,
            stale.len(),
            standalone.len()
        ));
        Ok(())
    }
}
