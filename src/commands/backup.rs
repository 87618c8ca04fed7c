//! `photoscale backup create|list|restore|prune`, on the configuration's
//! database and storage (`--config`, the environment, `--data-dir`...).

use std::path::PathBuf;

use crate::backup::Backups;
use crate::commands::output::print_stdout;
use crate::configuration::CliOverrides;

#[derive(Debug, clap::Subcommand)]
pub enum BackupCommand {
    /// Back the database up, with a manifest of the photos it refers to
    Create(Where),
    /// List the backups, oldest first
    List {
        #[command(flatten)]
        place: Where,
        /// Machine-readable output
        #[arg(long)]
        json: bool,
    },
    /// Replace the database's contents with a backup's (an empty database,
    /// unless --force); every photo the backup names must be in the storage
    Restore {
        /// The backup, as `backup list` prints it
        id: String,
        /// Replace a database that already has users or photos
        #[arg(long)]
        force: bool,
        #[command(flatten)]
        place: Where,
    },
    /// Delete all but the newest backups
    Prune {
        /// How many of the newest backups to keep
        #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
        keep: u32,
        #[command(flatten)]
        place: Where,
    },
}

/// Which configuration, and where its backups are.
#[derive(Debug, clap::Args)]
pub struct Where {
    /// Keep backups in DIR/backups/ (default: the bucket's backups/ prefix
    /// when photos are in S3, else the data directory's backups/)
    #[arg(long, value_name = "DIR")]
    pub to: Option<PathBuf>,
    #[command(flatten)]
    pub overrides: CliOverrides,
}

pub async fn run(command: BackupCommand, config: Option<PathBuf>) -> anyhow::Result<()> {
    match command {
        BackupCommand::Create(place) => {
            let backups = open(config, place).await?;
            let made = backups.create().await?;
            eprintln!(
                "Backed up {} user(s) and {} photo(s) ({} bytes of {} database) to {}.",
                made.users,
                made.photos,
                made.database_bytes,
                made.engine.name(),
                backups.store_name()
            );
            print_stdout(&format!("{}\n", made.id));
        }
        BackupCommand::List { place, json } => {
            let backups = open(config, place).await?;
            let all = backups.list().await?;
            if json {
                print_stdout(&format!("{}\n", serde_json::to_string_pretty(&all)?));
            } else if all.is_empty() {
                print_stdout(&format!(
                    "No backups in {}. Make one with `photoscale backup create`.\n",
                    backups.store_name()
                ));
            } else {
                let mut out = format!("Backups in {}:\n", backups.store_name());
                for m in &all {
                    out.push_str(&format!(
                        "{}  {:<8} {:>5} user(s) {:>6} photo(s) {:>10} bytes  {}\n",
                        m.id,
                        m.engine.name(),
                        m.users,
                        m.photos,
                        m.database_bytes,
                        m.build
                    ));
                }
                print_stdout(&out);
            }
        }
        BackupCommand::Restore { id, force, place } => {
            let backups = open(config, place).await?;
            let restored = backups.restore(&id, force).await?;
            eprintln!(
                "Restored backup {id}: the database has {} user(s) and {} photo(s).",
                restored.users, restored.photos
            );
        }
        BackupCommand::Prune { keep, place } => {
            let backups = open(config, place).await?;
            let deleted = backups.prune(keep as usize).await?;
            eprintln!(
                "Kept the newest {keep}; deleted {} backup(s){}{}.",
                deleted.len(),
                if deleted.is_empty() { "" } else { ": " },
                deleted.join(", ")
            );
        }
    }
    Ok(())
}

async fn open(config: Option<PathBuf>, place: Where) -> anyhow::Result<Backups> {
    let settings = super::settings::load(config, place.overrides)?;
    Backups::open(&settings, place.to.as_deref()).await
}
