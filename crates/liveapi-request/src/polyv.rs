//! Signed Polyv requests: `appId`, `timestamp`, `channelId` and `sign` in the query, settings
//! in an unsigned JSON body.

use std::time::SystemTime;

use bytes::Bytes;
use liveapi_model::ApiError;
use liveapi_model::polyv::{GetDonate, Method, PolyvRequest, UpdateCash, UpdateGoods};
use liveapi_sign::polyv::{SIGNATURE_METHOD_PARAM, SignatureMethod};

use crate::operation::{JSON, http_request};
use crate::{BuildError, Entropy, Operation, PolyvCredentials, Vendor};

fn build<R: PolyvRequest>(
    request: &R,
    credentials: &PolyvCredentials,
    now: SystemTime,
) -> Result<http::Request<Bytes>, BuildError> {
    let timestamp = liveapi_sign::polyv::timestamp(now)?;
    let mut params = vec![
        ("appId", credentials.app_id().to_owned()),
        ("timestamp", timestamp.to_string()),
    ];
    // The scope travels only here: in the body the server would ignore it and change the
    // account-wide setting instead.
    if let Some(channel) = request.scope().channel() {
        params.push(("channelId", channel.to_string()));
    }
    if credentials.signature_method() == SignatureMethod::Sha256 {
        params.push((
            SIGNATURE_METHOD_PARAM,
            SignatureMethod::Sha256.as_str().to_owned(),
        ));
    }
    params.sort_unstable_by(|a, b| a.0.cmp(b.0));
    let pairs = || params.iter().map(|(k, v)| (*k, v.as_str()));
    let sign = liveapi_sign::polyv::sign(pairs(), credentials.secret().expose())?;

    let mut query = form_urlencoded::Serializer::new(String::with_capacity(128));
    query.extend_pairs(pairs());
    query.append_pair("sign", sign.as_str());
    let uri = credentials
        .base_url()
        .join(R::PATH, Some(&query.finish()))?;

    Ok(match R::METHOD {
        Method::Post => {
            // An empty POST would change settings to nothing the caller asked for.
            let body = request.body().ok_or(BuildError::MissingBody)?;
            http_request(http::Method::POST, uri, Some(JSON), Bytes::from(body))
        }
        Method::Get => http_request(http::Method::GET, uri, None, Bytes::new()),
    })
}

macro_rules! polyv_operations {
    ($($request:ty),* $(,)?) => {$(
        impl Operation for $request {
            type Credentials = PolyvCredentials;
            type Output = <$request as PolyvRequest>::Response;
            const VENDOR: Vendor = Vendor::Polyv;
            const NAME: &'static str = <$request as PolyvRequest>::NAME;

            fn build(
                &self,
                credentials: &PolyvCredentials,
                now: SystemTime,
                _: &dyn Entropy,
            ) -> Result<http::Request<Bytes>, BuildError> {
                build(self, credentials, now)
            }

            fn parse(&self, response: &http::Response<Bytes>) -> Result<Self::Output, ApiError> {
                liveapi_model::polyv::decode(response.status().as_u16(), response.body())
            }
        }
    )*};
}

polyv_operations!(UpdateCash, UpdateGoods, GetDonate);
