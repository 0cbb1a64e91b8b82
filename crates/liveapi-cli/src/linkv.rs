//! `liveapi linkv token|order|change-gold|balance`: calls of the LinkV live API.

use clap::Subcommand;
use liveapi::Client;
use liveapi::model::linkv::{
    Birthday, ChangeReason, Coins, CountryCode, DeviceId, Email, Expiration, GetUserTokens, OpenId,
    OrderId, PendingChange, Platform, PortraitUri, RequestId, Sex, ThGetToken, UsdCents, UserId,
    UserName,
};
use serde_json::{Value, json};

use crate::call;
use crate::credentials::{self, LinkvFlags};
use crate::exit::{Failure, Outcome, Status};
use crate::output::{self, Format};
use crate::rfc3339;
use crate::values;

/// Arguments of `liveapi linkv`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// Print the result as one JSON object on one line instead of text.
    #[arg(long, global = true)]
    json: bool,

    #[command(flatten)]
    credentials: LinkvFlags,

    #[command(subcommand)]
    call: Call,
}

#[derive(Debug, Subcommand)]
enum Call {
    /// Register a user (with --name and --portrait-uri) or log one in; prints their live
    /// token and open id (thGetToken).
    Token(TokenArgs),
    /// Complete a top-up order, crediting its coins, or with --refund take them back; prints
    /// the balance after (orderSuccess).
    Order(OrderArgs),
    /// Add or remove coins outside an order (changeGold).
    ChangeGold(ChangeGoldArgs),
    /// Print a user's coin balance, the bare number unless --json (getUserTokens).
    Balance(BalanceArgs),
}

#[derive(Debug, clap::Args)]
struct TokenArgs {
    /// Your app's id for the user: 1 to 64 of A-Z a-z 0-9 + = - _ (`docs/linkv.md#validation-rules`).
    #[arg(long, value_name = "ID")]
    user_id: UserId,

    /// The user's display name, 1 to 128 bytes; with --portrait-uri it registers the user
    /// (required the first time a user id is seen) or updates both.
    #[arg(long, requires = "portrait_uri")]
    name: Option<UserName>,

    /// The URI of the user's portrait, 1 to 1024 bytes; goes with --name.
    #[arg(long, value_name = "URI", requires = "name")]
    portrait_uri: Option<PortraitUri>,

    /// The user's device id (aid), 1 to 1024 bytes: required by LinkV's 2020 doc, dropped by
    /// its 2021 doc.
    #[arg(long, value_name = "AID")]
    aid: Option<DeviceId>,

    /// The user's e-mail address, up to 254 bytes.
    #[arg(long)]
    email: Option<Email>,

    /// The user's country, two letters such as US (any case; sent in capitals).
    #[arg(long, value_name = "CC")]
    country_code: Option<CountryCode>,

    /// The user's birthday.
    #[arg(long, value_name = "YYYY-MM-DD")]
    birthday: Option<Birthday>,

    /// The user's sex: male, female or unknown (or 1, 0, -1).
    #[arg(long, value_parser = parse_sex, allow_hyphen_values = true)]
    sex: Option<Sex>,
}

fn parse_sex(text: &str) -> Result<Sex, String> {
    match text {
        "male" => Ok(Sex::Male),
        "female" => Ok(Sex::Female),
        "unknown" => Ok(Sex::Unknown),
        other => other.parse().map_err(|e| format!("{e}")),
    }
}

/// The idempotency key and expiry of a coin change.
#[derive(Debug, clap::Args)]
struct Idempotency {
    /// The idempotency key: 1 to 64 printable ASCII characters. Without it a fresh,
    /// time-ordered one is generated and printed (on standard error) before sending. The
    /// server applies a request id once. A generated id carries its creation time, so
    /// `--request-id` alone repeats the change exactly, expiry included, on any later day.
    #[arg(long, value_name = "ID")]
    request_id: Option<RequestId>,

    /// When credited coins expire, in unix seconds [default: the start of the UTC day the
    /// request id was made, or for an id of your own the day the change is made, plus 91
    /// days]. To resend a change whose request id is your own on a later day, repeat the
    /// value printed when it was first sent.
    #[arg(
        long,
        value_name = "UNIX_SECS",
        conflicts_with = "expires_in_days",
        value_parser = values::unix_seconds,
        allow_negative_numbers = true
    )]
    expires_at: Option<u64>,

    /// When credited coins expire, in days (at least 1) from the start of the UTC day the
    /// request id was made (for an id of your own, the day the change is made) [default: 91].
    #[arg(long, value_name = "DAYS", value_parser = clap::value_parser!(u32).range(1..))]
    expires_in_days: Option<u32>,
}

impl Idempotency {
    /// The request id to send, and the expiry if the flags decide it (otherwise the client
    /// derives it from the request id).
    fn resolve(&self, client: &Client) -> Result<(RequestId, Option<Expiration>), Failure> {
        let request_id = match &self.request_id {
            Some(id) => id.clone(),
            None => client.new_request_id().map_err(|e| call::failure(&e))?,
        };
        let expiration = match (self.expires_at, self.expires_in_days) {
            (Some(secs), _) => Some(Expiration::at_unix_seconds(secs)),
            (None, Some(days)) => {
                let made = request_id.created_at().unwrap_or_else(|| client.now());
                Some(Expiration::days_from_today(made, days))
            }
            (None, None) => None,
        };
        Ok((request_id, expiration))
    }
}

/// Says, before sending, how to resend: if the process dies or the network fails, this
/// line is what lets the user finish the change without applying it twice.
fn announce(change: &PendingChange) {
    let expires_at = change.expiration().map_or_else(
        || "none".to_owned(),
        |e| match rfc3339::from_unix_seconds(e.unix_seconds()) {
            Some(text) => format!("{e}, {text}"),
            None => e.to_string(),
        },
    );
    output::note(format_args!(
        "sending {change} (expires_at {expires_at}); if the outcome is unknown, resend with {}",
        call::resend_flags(change)
    ));
}

/// `expires_at` (unix seconds, what `--expires-at` takes) and `expires_at_rfc3339` beside it,
/// for a JSON result.
fn expiry_json(change: &PendingChange) -> [(&'static str, Value); 2] {
    let secs = change.expiration().map(Expiration::unix_seconds);
    [
        ("expires_at", json!(secs)),
        (
            "expires_at_rfc3339",
            json!(secs.and_then(rfc3339::from_unix_seconds)),
        ),
    ]
}

#[derive(Debug, clap::Args)]
struct OrderArgs {
    /// The user's open id (printed by `liveapi linkv token`).
    #[arg(long, value_name = "OPEN_ID")]
    uid: OpenId,

    /// The top-up order's id, 1 to 4096 bytes; an order can be completed once. For --refund,
    /// the id of the refund.
    #[arg(long, value_name = "ID")]
    order_id: OrderId,

    /// How many coins to credit (or, with --refund, to take back): a whole number from 1.
    #[arg(long, value_name = "N", value_parser = values::order_coins, allow_negative_numbers = true)]
    coins: Coins,

    /// Refund the order: take its coins back (orderSuccess type=2), soonest-expiring first.
    /// LinkV refuses to take a balance below zero.
    #[arg(long)]
    refund: bool,

    /// What was paid, in whole US cents (0 to 4294967295).
    #[arg(long, value_name = "CENTS", value_parser = values::money, allow_negative_numbers = true)]
    money: UsdCents,

    /// Where it was paid: h5, ios or android.
    #[arg(long, value_name = "PLATFORM")]
    platform: Platform,

    #[command(flatten)]
    idempotency: Idempotency,

    #[command(flatten)]
    outbox: crate::outbox::OutboxFlags,
}

#[derive(Debug, clap::Args)]
struct ChangeGoldArgs {
    /// The user's open id (printed by `liveapi linkv token`).
    #[arg(long, value_name = "OPEN_ID")]
    uid: OpenId,

    #[command(flatten)]
    change: Change,

    /// Why the coins change, kept by LinkV: 1 to 1024 bytes of any text (the rule of
    /// `ChangeReason`, docs/linkv.md#validation-rules).
    #[arg(long)]
    reason: Option<ChangeReason>,

    #[command(flatten)]
    idempotency: Idempotency,

    #[command(flatten)]
    outbox: crate::outbox::OutboxFlags,
}

/// Exactly one of `--add` and `--remove`.
#[derive(Debug, clap::Args)]
#[group(required = true, multiple = false)]
struct Change {
    /// Credit this many coins: a whole number from 1.
    #[arg(long, value_name = "N", value_parser = values::coins_to_add, allow_negative_numbers = true)]
    add: Option<Coins>,

    /// Take this many coins away (a whole number from 1), soonest-expiring first; LinkV
    /// refuses to go below zero.
    #[arg(long, value_name = "N", value_parser = values::coins_to_remove, allow_negative_numbers = true)]
    remove: Option<Coins>,
}

#[derive(Debug, clap::Args)]
struct BalanceArgs {
    /// The user's open id (printed by `liveapi linkv token`).
    #[arg(long, value_name = "OPEN_ID")]
    uid: OpenId,
}

pub(crate) fn run(args: Args) -> Outcome {
    let format = Format::from_flag(args.json);
    // Everything that can be checked here is, before a change is announced or sent: the
    // values (by their types, as the arguments are read), the credentials, and for an order
    // the alias it sends.
    let client = args.credentials.client()?;
    if let Call::Order(_) = args.call {
        credentials::require_alias(&client)?;
    }
    match args.call {
        Call::Token(token) => call::block_on(run_token(&client, token, format))?,
        Call::Order(order) => call::block_on(run_order(&client, order, format))?,
        Call::ChangeGold(change) => call::block_on(run_change(&client, change, format))?,
        Call::Balance(balance) => call::block_on(run_balance(&client, balance, format))?,
    }
}

async fn run_token(client: &Client, args: TokenArgs, format: Format) -> Outcome {
    let mut request = match (args.name, args.portrait_uri) {
        (Some(name), Some(portrait)) => ThGetToken::register(args.user_id, name, portrait),
        _ => ThGetToken::login(args.user_id),
    };
    if let Some(aid) = args.aid {
        request = request.with_aid(aid);
    }
    if let Some(email) = args.email {
        request = request.with_email(email);
    }
    if let Some(country) = args.country_code {
        request = request.with_country_code(country);
    }
    if let Some(birthday) = args.birthday {
        request = request.with_birthday(birthday);
    }
    if let Some(sex) = args.sex {
        request = request.with_sex(sex);
    }
    let user = client
        .user_token(request)
        .await
        .map_err(|e| call::failure(&e))?;
    // Servers echo what they were sent, which may be nothing at all.
    let user_id = user.user_id.filter(|id| !id.is_empty());
    let aid = user.aid.filter(|aid| !aid.is_empty());
    match format {
        Format::Json => output::json(&json!({
            "token": user.token.as_str(),
            "open_id": user.open_id.as_str(),
            "user_id": user_id,
            "aid": aid,
        })),
        Format::Plain => {
            let mut fields = vec![
                ("token", user.token.as_str().to_owned()),
                ("open_id", user.open_id.to_string()),
            ];
            fields.extend(user_id.map(|id| ("user_id", id)));
            fields.extend(aid.map(|aid| ("aid", aid)));
            output::fields(fields)
        }
    }
}

async fn run_order(client: &Client, args: OrderArgs, format: Format) -> Outcome {
    let (request_id, expiration) = args.idempotency.resolve(client)?;
    let order = if args.refund {
        Client::refund_order
    } else {
        Client::complete_order
    };
    let mut order = order(
        client,
        &args.uid,
        args.order_id.clone(),
        args.coins,
        args.money,
        args.platform,
    )
    .request_id(request_id);
    if let Some(expiration) = expiration {
        order = order.expires_at(expiration);
    }
    // Checked before anything is announced or sent.
    let change = order.into_pending().map_err(|e| call::failure(&e))?;
    client
        .check_resend_window(&change)
        .map_err(|e| call::failure(&e))?;
    // Opened before anything is announced: a store that cannot be used stops here.
    let outbox = args
        .outbox
        .open_for_one_change(client.engine().deadline())
        .await?;
    announce(&change);
    let balance = send(client, &change, outbox.as_ref())
        .await
        .map_err(|f| hint_open_id(f, &args.uid))?
        .ok_or_else(|| Failure::local("orderSuccess answered without a balance"))?;
    match format {
        Format::Json => {
            let mut value = json!({
                "uid": args.uid.as_str(),
                "order_id": args.order_id.as_str(),
                "change": if args.refund { "remove" } else { "add" },
                "coins": args.coins.get(),
                "money": args.money.get(),
                "platform": args.platform.as_str(),
                "request_id": change.request_id().as_str(),
                "balance": balance.get(),
            });
            for (key, time) in expiry_json(&change) {
                value[key] = time;
            }
            output::json(&value)
        }
        Format::Plain => {
            let mut fields = vec![("balance", balance.to_string())];
            if args.refund {
                fields.push(("refunded", args.coins.to_string()));
            }
            fields.extend([
                ("uid", args.uid.to_string()),
                ("order_id", args.order_id.to_string()),
                ("request_id", change.request_id().to_string()),
            ]);
            output::fields(fields)
        }
    }
}

async fn run_change(client: &Client, args: ChangeGoldArgs, format: Format) -> Outcome {
    let (request_id, expiration) = args.idempotency.resolve(client)?;
    let (verb, kind, change) = match (args.change.add, args.change.remove) {
        (Some(coins), _) => ("added", "add", client.add_coins(&args.uid, coins)),
        (None, Some(coins)) => ("removed", "remove", client.remove_coins(&args.uid, coins)),
        (None, None) => return Err(Failure::usage("give --add N or --remove N")),
    };
    let mut change = change.request_id(request_id);
    if let Some(expiration) = expiration {
        change = change.expires_at(expiration);
    }
    if let Some(reason) = args.reason {
        change = change.reason(reason);
    }
    // Checked before anything is announced or sent.
    let change = change.into_pending().map_err(|e| call::failure(&e))?;
    client
        .check_resend_window(&change)
        .map_err(|e| call::failure(&e))?;
    // Opened before anything is announced: a store that cannot be used stops here.
    let outbox = args
        .outbox
        .open_for_one_change(client.engine().deadline())
        .await?;
    announce(&change);
    send(client, &change, outbox.as_ref())
        .await
        .map_err(|f| hint_open_id(f, &args.uid))?;
    let coins = change.coins();
    match format {
        Format::Json => {
            let mut value = json!({
                "uid": args.uid.as_str(),
                "change": kind,
                "coins": coins.get(),
                "request_id": change.request_id().as_str(),
            });
            for (key, time) in expiry_json(&change) {
                value[key] = time;
            }
            output::json(&value)
        }
        Format::Plain => output::fields([
            (verb, coins.to_string()),
            ("uid", args.uid.to_string()),
            ("request_id", change.request_id().to_string()),
        ]),
    }
}

/// `failure`, and when it is the server's refusal of a call about `uid` given a value that
/// does not look like an open id, a hint that `--uid` takes one. Open ids are LinkV's, made
/// of digits in its examples; the app's own user ids (`thGetToken`'s `userId`) are often not.
/// Only the shape of the value is read: the refusal's words are the server's, and decide
/// nothing (`docs/linkv.md#errors`).
fn hint_open_id(mut failure: Failure, uid: &OpenId) -> Failure {
    let digits = uid.as_str().bytes().all(|b| b.is_ascii_digit());
    if failure.status() == Status::Refused && !digits {
        failure.append(&format!(
            "; `{uid}` does not look like an open id: --uid takes LinkV's id for the user, a \
             number such as the open_id that `liveapi linkv token --user-id {uid}` prints, not \
             the app's own user id"
        ));
    }
    failure
}

/// Sends `change`, through the outbox at `outbox` if one is given; answers the balance after
/// when the call reports one.
async fn send(
    client: &Client,
    change: &PendingChange,
    outbox: Option<&liveapi_outbox::Outbox>,
) -> Result<Option<Coins>, Failure> {
    match outbox {
        Some(outbox) => Ok(crate::outbox::enqueue_and_send(client, outbox, change)
            .await?
            .balance),
        None => client
            .send_change(change)
            .await
            .map_err(|e| call::failure(&e)),
    }
}

async fn run_balance(client: &Client, args: BalanceArgs, format: Format) -> Outcome {
    let balance = client
        .execute(GetUserTokens::new(args.uid.clone()))
        .await
        .map_err(|e| hint_open_id(call::failure(&e), &args.uid))?;
    match format {
        Format::Json => {
            let mut value = json!({
                "uid": args.uid.as_str(),
                "balance": balance.coins.get(),
            });
            // `isMigrate` only when the server sent it, as it wrote it.
            if let Some(flag) = balance.is_migrate {
                value["is_migrate"] = json!(flag);
            }
            output::json(&value)
        }
        Format::Plain => output::line(balance.coins),
    }
}
