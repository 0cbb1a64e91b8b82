//! `liveapi decrypt-credentials`: the LinkV console's `app_id` and encrypted `app_secret`
//! turned into the live API credentials, natively instead of with the vendor's
//! `libdecrypt.so`.

use liveapi::LinkvCredentials;
use serde_json::json;

use crate::exit::{Failure, Outcome};
use crate::input;
use crate::output::{self, Format};

/// Arguments of `liveapi decrypt-credentials`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// The app_id shown by the console.
    #[arg(long, value_name = "ID")]
    app_id: String,

    /// The app_secret shown by the console: hexadecimal, either case. Without it, it is
    /// read from standard input (which keeps it out of process lists).
    #[arg(long, value_name = "HEX")]
    app_secret: Option<String>,

    /// Also print the decrypted live_app_secret; without this flag it is never printed.
    #[arg(long)]
    show_secret: bool,

    /// Print one JSON object on one line instead of text.
    #[arg(long)]
    json: bool,
}

pub(crate) fn run(args: Args) -> Outcome {
    let ciphertext = match args.app_secret {
        Some(hex) => hex,
        None => {
            let bytes =
                input::stdin("no app_secret: pass --app-secret or pipe it to standard input")
                    .map_err(Failure::usage)?;
            String::from_utf8_lossy(&bytes).trim().to_owned()
        }
    };
    let credentials =
        LinkvCredentials::from_console(&args.app_id, &ciphertext).map_err(Failure::usage)?;
    let secret = args
        .show_secret
        .then(|| credentials.secret().expose().to_owned());
    match Format::from_flag(args.json) {
        Format::Json => {
            let mut value = json!({
                "live_app_key": credentials.app_id(),
                "alias": credentials.alias(),
                "base_url": credentials.base_url().to_string(),
            });
            if let (Some(secret), Some(object)) = (secret, value.as_object_mut()) {
                object.insert("live_app_secret".to_owned(), json!(secret));
            }
            output::json(&value)
        }
        Format::Plain => output::fields([
            ("live_app_key", credentials.app_id().to_owned()),
            (
                "live_app_secret",
                secret.unwrap_or_else(|| "(hidden; --show-secret prints it)".to_owned()),
            ),
            ("alias", credentials.alias().unwrap_or("(none)").to_owned()),
            ("base_url", credentials.base_url().to_string()),
        ]),
    }
}
