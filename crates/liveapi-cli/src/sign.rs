//! `liveapi sign linkv|polyv`: the signature of some parameters, to compare with what an
//! integration sends when the server answers `sign err` or `invalid signature.`.

use clap::Subcommand;

use crate::exit::{Failure, Outcome};
use crate::input;
use crate::output;
use crate::vendor::{self, Vendor};

const INPUT_HELP: &str = "\
Parameters are KEY=VALUE arguments or, without any, a JSON object on standard input whose
values are strings; null means the parameter is absent. A key given twice is an error.

Examples:
  liveapi sign linkv --secret S app_id=A nonce_str=N uid=42
  echo '{\"appId\":\"A\",\"timestamp\":\"1660270926732\",\"page\":null}' | liveapi sign polyv

Exit status: 0 the signature was printed; 2 unusable input or no secret.";

/// Arguments of `liveapi sign`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    #[command(subcommand)]
    vendor: VendorArgs,
}

#[derive(Debug, Subcommand)]
enum VendorArgs {
    /// LinkV: MD5 of `k1=v1&k2=v2&key=SECRET` (keys in byte order, empty values and `sign`
    /// left out), lowercase hex.
    #[command(after_long_help = INPUT_HELP)]
    Linkv(SignArgs),
    /// Polyv: MD5 of `SECRET k1v1k2v2 SECRET` (keys in UTF-16 order, empty values, `sign` and
    /// `sign_type` left out), uppercase hex; SHA-256 when `signatureMethod` is `SHA256`.
    #[command(after_long_help = INPUT_HELP)]
    Polyv(SignArgs),
}

/// What `sign` takes for either vendor.
#[derive(Debug, clap::Args)]
struct SignArgs {
    /// The signing secret: LinkV's live_app_secret or Polyv's appSecret [default: the
    /// LIVEAPI_LINKV_SECRET or LIVEAPI_POLYV_SECRET environment variable].
    #[arg(long, value_name = "SECRET")]
    secret: Option<String>,

    /// Also print, on standard error, the exact string that was hashed (the secret shown as
    /// ***) and the digest; standard output still holds the signature alone.
    #[arg(long)]
    explain: bool,

    /// The parameters; without any, a JSON object is read from standard input.
    #[arg(value_name = "KEY=VALUE")]
    params: Vec<String>,
}

pub(crate) fn run(args: Args) -> Outcome {
    match args.vendor {
        VendorArgs::Linkv(args) => sign(Vendor::Linkv, args),
        VendorArgs::Polyv(args) => sign(Vendor::Polyv, args),
    }
}

fn sign(vendor: Vendor, args: SignArgs) -> Outcome {
    let secret = vendor.secret(args.secret)?;
    let params = input::read(&args.params).map_err(Failure::usage)?;
    let signature = vendor.sign(&params, &secret).map_err(Failure::usage)?;
    if args.explain {
        explain(vendor, &params, &secret)?;
        let case = match vendor {
            Vendor::Linkv => "lowercase",
            Vendor::Polyv => "uppercase",
        };
        output::note(format_args!(
            "digest: {} of the string, {case} hex",
            vendor::digest_name(&signature)
        ));
    }
    output::line(signature)
}

/// Prints, on standard error, the string a signature is computed over (secret masked) and
/// the parameters that were left out as `null`.
pub(crate) fn explain(vendor: Vendor, params: &input::Params, secret: &str) -> Outcome {
    let canonical = vendor.canonical(params, secret).map_err(Failure::usage)?;
    output::note(format_args!("string to sign: {canonical}"));
    if !params.absent().is_empty() {
        output::note(format_args!(
            "left out (null): {}",
            params.absent().join(", ")
        ));
    }
    Ok(())
}
