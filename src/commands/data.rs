//! `photoscale data copy`: users and photos from one configuration to
//! another (the copying is in `data_copy`).

use std::path::PathBuf;

use clap::Subcommand;

use super::settings::load_with_data_dir;

#[derive(Debug, Subcommand)]
pub enum DataCommand {
    /// Copy every user and photo from one configuration's database and
    /// storage to another's; what the target already has is not copied again
    Copy {
        /// Configuration file of the source
        #[arg(long, value_name = "FILE")]
        from: PathBuf,
        /// Data directory of the source (for SQLite and local photos)
        #[arg(long, value_name = "DIR")]
        from_data_dir: Option<PathBuf>,
        /// Configuration file of the target
        #[arg(long, value_name = "FILE")]
        to: PathBuf,
        /// Data directory of the target
        #[arg(long, value_name = "DIR")]
        to_data_dir: Option<PathBuf>,
    },
}

pub async fn run(command: DataCommand) -> anyhow::Result<()> {
    match command {
        DataCommand::Copy {
            from,
            from_data_dir,
            to,
            to_data_dir,
        } => {
            let source = load_with_data_dir(from, from_data_dir)?;
            let target = load_with_data_dir(to, to_data_dir)?;
            let report = super::data_copy::copy(&source, &target).await?;
            println!("{report}");
        }
    }
    Ok(())
}
