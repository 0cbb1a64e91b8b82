//! `liveapi polyv donate get|update-cash|update-good`: calls of the Polyv live API.

use clap::Subcommand;
use liveapi::Client;
use liveapi::model::polyv::{
    Amount, BodyError, CashSettings, Cashes, ChannelId, DonateGood, DonateGoods, DonateSettings,
    Enabled, GoodImage, GoodName, GoodPrice, GoodSettings, Scope,
};
use serde_json::{Value, json};

use crate::call;
use crate::credentials::PolyvFlags;
use crate::exit::{Failure, Outcome};
use crate::input;
use crate::output::{self, Format};
use crate::values;

/// Arguments of `liveapi polyv`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// Print the result as one JSON object on one line instead of text.
    #[arg(long, global = true)]
    json: bool,

    #[command(flatten)]
    credentials: PolyvFlags,

    #[command(subcommand)]
    group: Group,
}

#[derive(Debug, Subcommand)]
enum Group {
    /// Tipping (donate) settings: cash amounts and gifts, per channel or account-wide.
    Donate(DonateArgs),
}

#[derive(Debug, clap::Args)]
struct DonateArgs {
    #[command(subcommand)]
    call: DonateCall,
}

#[derive(Debug, Subcommand)]
enum DonateCall {
    /// Print the donate settings a channel effectively uses, or the account-wide ones
    /// (donate/get).
    Get(GetArgs),
    /// Set any of the six cash amounts, the smallest custom amount and the switch; what is
    /// not given stays as it is (donate/update-cash).
    UpdateCash(UpdateCashArgs),
    /// Set the gifts viewers can tip with, and the switch (donate/update-good).
    #[command(after_long_help = GOODS_HELP)]
    UpdateGood(UpdateGoodArgs),
}

const GOODS_HELP: &str = "\
Gifts come from --good (repeated), from --goods-json, or else as JSON on standard input.
The JSON is an array of gifts or an object with `goods` and optionally `enabled`:
  [{\"goodName\":\"鲜花\",\"goodImg\":\"//cdn.example.com/f.png\",\"goodPrice\":0,\"goodEnabled\":\"Y\"}]

Example:
  liveapi polyv donate update-good --channel 1000001 \\
    --good '鲜花,//cdn.example.com/f.png,0' --good '掌声,//cdn.example.com/c.png,1.5,N'";

/// Which settings a call is about.
#[derive(Debug, clap::Args)]
struct ScopeArg {
    /// The channel; without it, the account-wide settings that channels without their own
    /// use.
    #[arg(long, value_name = "CHANNEL_ID")]
    channel: Option<ChannelId>,
}

impl ScopeArg {
    fn scope(&self) -> Scope {
        Scope::from(self.channel)
    }

    fn json(&self) -> Value {
        self.channel.map_or(Value::Null, |c| json!(c.get()))
    }

    fn describe(&self) -> String {
        match self.channel {
            Some(channel) => format!("channel {channel}"),
            None => "account".to_owned(),
        }
    }
}

#[derive(Debug, clap::Args)]
struct GetArgs {
    #[command(flatten)]
    scope: ScopeArg,
}

/// Every field is optional, as the vendor's page marks none required (`docs/polyv.md#calls`), but one is needed.
#[derive(Debug, clap::Args)]
#[group(id = "cash_fields", required = true, multiple = true, args = ["cashes", "min", "enabled"])]
struct UpdateCashArgs {
    #[command(flatten)]
    scope: ScopeArg,

    /// The six amounts viewers pick from, in yuan, 0.01 to 9999.99 each, with at most 2
    /// decimals.
    #[arg(
        long,
        value_name = "A,B,C,D,E,F",
        value_delimiter = ',',
        value_parser = values::yuan::<Amount>
    )]
    cashes: Option<Vec<Amount>>,

    /// The smallest amount a viewer may type in, in yuan: 0.01 to 9999.99, with at most 2
    /// decimals.
    #[arg(long, value_name = "YUAN", value_parser = values::yuan::<Amount>)]
    min: Option<Amount>,

    /// Switch cash tips on (Y) or off (N) [default: left as it is].
    #[arg(long, value_name = "Y|N")]
    enabled: Option<Enabled>,
}

#[derive(Debug, clap::Args)]
struct UpdateGoodArgs {
    #[command(flatten)]
    scope: ScopeArg,

    /// A gift as NAME,IMAGE_URL,PRICE[,Y|N]: a name of up to 5 characters, an image URL of
    /// up to 120 characters, a price in yuan (0 for free, at most 9999.99, with at most 2
    /// decimals), and whether it is offered [default: Y]. Repeat for each gift, 1 to 9.
    #[arg(long, value_name = "NAME,IMG,PRICE[,Y|N]", value_parser = parse_good)]
    good: Vec<DonateGood>,

    /// The gifts as JSON (see below) instead of --good.
    #[arg(long, value_name = "JSON", conflicts_with = "good")]
    goods_json: Option<String>,

    /// Switch gift tips on (Y) or off (N) [default: as in the JSON, else left as it is].
    #[arg(long, value_name = "Y|N")]
    enabled: Option<Enabled>,
}

/// Reads `NAME,IMAGE_URL,PRICE[,Y|N]`, each part checked by the model's own types.
fn parse_good(text: &str) -> Result<DonateGood, String> {
    let parts: Vec<&str> = text.split(',').collect();
    let (name, image, price, enabled) = match parts.as_slice() {
        [name, image, price] => (name, image, price, None),
        [name, image, price, enabled] => (name, image, price, Some(enabled)),
        _ => {
            return Err(
                "expected NAME,IMAGE_URL,PRICE[,Y|N] (use --goods-json for a URL with commas)"
                    .to_owned(),
            );
        }
    };
    let good = DonateGood::new(
        GoodName::new(*name).map_err(|e| e.to_string())?,
        GoodImage::new(*image).map_err(|e| e.to_string())?,
        values::yuan::<GoodPrice>(price)?,
    );
    match enabled {
        Some(enabled) => Ok(good.with_enabled(enabled.parse().map_err(|e| format!("{e}"))?)),
        None => Ok(good),
    }
}

/// Reads gifts written as JSON: an array of gifts, or the whole `update-good` body.
fn goods_from_json(text: &str, source: &str) -> Result<GoodSettings, Failure> {
    let trimmed = text.trim();
    let body = if trimmed.starts_with('[') {
        format!("{{\"goods\":{trimmed}}}")
    } else {
        trimmed.to_owned()
    };
    GoodSettings::from_json(body.as_bytes()).map_err(|e| match e {
        BodyError::Syntax(why) => Failure::usage(format_args!("{source} is not JSON: {why}")),
        other => Failure::usage(format_args!("{source}: {other}")),
    })
}

pub(crate) fn run(args: Args) -> Outcome {
    let format = Format::from_flag(args.json);
    let Group::Donate(donate) = args.group;
    // Input is checked before credentials, so a mistake costs no configuration.
    match donate.call {
        DonateCall::Get(get) => {
            let client = args.credentials.client()?;
            call::block_on(run_get(&client, get, format))?
        }
        DonateCall::UpdateCash(update) => {
            let cashes = update.cashes.as_deref().map(Cashes::try_from).transpose()?;
            let settings = CashSettings::from_parts(cashes, update.min, update.enabled)?;
            let client = args.credentials.client()?;
            call::block_on(async {
                client
                    .set_cash_tips(update.scope.scope(), settings)
                    .await
                    .map_err(|e| call::failure(&e))?;
                updated("cash", &update.scope, format)
            })?
        }
        DonateCall::UpdateGood(update) => {
            let mut settings = match (&update.goods_json, update.good.is_empty()) {
                (Some(text), _) => goods_from_json(text, "--goods-json")?,
                (None, false) => GoodSettings::new(DonateGoods::new(update.good.clone())?),
                (None, true) => {
                    let bytes = input::stdin(
                        "no gifts: give --good, --goods-json, or pipe JSON to standard input",
                    )
                    .map_err(Failure::usage)?;
                    let text = String::from_utf8(bytes)
                        .map_err(|_| Failure::usage("standard input is not UTF-8 text"))?;
                    goods_from_json(&text, "standard input")?
                }
            };
            if let Some(enabled) = update.enabled {
                settings = settings.with_enabled(enabled);
            }
            let client = args.credentials.client()?;
            call::block_on(async {
                client
                    .set_gift_tips(update.scope.scope(), settings)
                    .await
                    .map_err(|e| call::failure(&e))?;
                updated("gift", &update.scope, format)
            })?
        }
    }
}

fn updated(what: &str, scope: &ScopeArg, format: Format) -> Outcome {
    match format {
        Format::Json => output::json(&json!({ "updated": what, "channel": scope.json() })),
        Format::Plain => output::line(format_args!(
            "updated: {what} tips of the {}",
            scope.describe()
        )),
    }
}

async fn run_get(client: &Client, args: GetArgs, format: Format) -> Outcome {
    let settings = client
        .donate_settings(args.scope.scope())
        .await
        .map_err(|e| call::failure(&e))?;
    match format {
        Format::Json => output::json(&settings_json(&args.scope, &settings)),
        Format::Plain => output::line(settings_text(&args.scope, &settings)),
    }
}

/// The settings under the wire's names in snake_case (`donateCashEnabled` is
/// `donate_cash_enabled`), as every JSON result of the command line is keyed; amounts as JSON
/// numbers of yuan, switches as the wire's `Y` and `N` (what `--enabled` takes).
fn settings_json(scope: &ScopeArg, settings: &DonateSettings) -> Value {
    let goods: Vec<Value> = settings
        .goods
        .iter()
        .map(|good| {
            json!({
                "good_name": good.name(),
                "good_img": good.image(),
                "good_price": good.price,
                "good_enabled": good.enabled,
            })
        })
        .collect();
    json!({
        "channel": scope.json(),
        "global_setting_enabled": settings.global_setting_enabled,
        "donate_cash_enabled": settings.cash_enabled,
        "cashes": settings.cashes,
        "cash_min": settings.cash_min,
        "donate_good_enabled": settings.good_enabled,
        "goods": goods,
        "donate_tips": settings.tips(),
    })
}

fn switch(enabled: Option<Enabled>) -> &'static str {
    match enabled {
        Some(Enabled::Yes) => "on",
        Some(Enabled::No) => "off",
        None => "not set",
    }
}

fn settings_text(scope: &ScopeArg, settings: &DonateSettings) -> String {
    let mut lines = vec![format!("scope: {}", scope.describe())];
    if scope.channel.is_some() {
        lines.push(format!(
            "uses account-wide settings: {}",
            match settings.global_setting_enabled {
                Some(Enabled::Yes) => "yes",
                Some(Enabled::No) => "no",
                None => "not said",
            }
        ));
    }
    let cashes: Vec<String> = settings.cashes.iter().map(ToString::to_string).collect();
    lines.push(format!("cash tips: {}", switch(settings.cash_enabled)));
    lines.push(format!("cashes: {}", cashes.join(" ")));
    if let Some(min) = settings.cash_min {
        lines.push(format!("cash min: {min}"));
    }
    lines.push(format!("gift tips: {}", switch(settings.good_enabled)));
    for good in &settings.goods {
        let price = good.price.map_or_else(|| "-".to_owned(), |p| p.to_string());
        lines.push(format!(
            "gift: {}  {price}  {}  {}",
            good.name(),
            switch(good.enabled),
            good.image()
        ));
    }
    if let Some(tips) = settings.tips() {
        lines.push(format!("tips text: {tips}"));
    }
    lines.join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gifts_parse_from_flags_and_json() {
        let good = parse_good("鲜花,//cdn.example.com/f.png,1.5,N").unwrap();
        assert_eq!(good.name().as_str(), "鲜花");
        assert_eq!(good.price().cents().get(), 150);
        assert_eq!(good.enabled(), Enabled::No);
        assert!(parse_good("鲜花,//x.png,0").unwrap().enabled().is_on());
        for bad in [
            "a,b",
            "a,b,c,d,e",
            "一二三四五六,//x,1",
            "a,//x,-1",
            "a,//x,1,yes",
            "a,//x,1e2",
        ] {
            assert!(parse_good(bad).is_err(), "{bad}");
        }

        let array = r#"[{"goodName":"a","goodImg":"//x","goodPrice":0.5}]"#;
        assert_eq!(
            goods_from_json(array, "x")
                .unwrap()
                .goods()
                .as_slice()
                .len(),
            1
        );
        let body = r#"{"goods":[{"goodName":"a","goodImg":"//x","goodPrice":0}],"enabled":"N"}"#;
        assert_eq!(
            goods_from_json(body, "x").unwrap().enabled(),
            Some(Enabled::No)
        );
        assert!(goods_from_json("[", "x").is_err());
        assert!(goods_from_json("[]", "x").is_err());
    }
}
