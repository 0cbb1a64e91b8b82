//! Signed LinkV requests: a form-encoded POST with `app_id`, `nonce_str` and `sign` added.

use std::time::SystemTime;

use bytes::Bytes;
use liveapi_model::linkv::{
    ChangeGold, GetUserTokens, LinkvRequest, OrderSuccess, RequestId, ThGetToken,
};

use crate::operation::{FORM, http_request};
use liveapi_model::ApiError;

use crate::{BuildError, Entropy, LinkvCredentials, Operation, Vendor};

/// Every parameter, sorted as they are signed, then the signature; form-encoded.
fn build<R: LinkvRequest>(
    request: &R,
    credentials: &LinkvCredentials,
    now: SystemTime,
    entropy: &dyn Entropy,
) -> Result<http::Request<Bytes>, BuildError> {
    let mut params = request.params();
    params.push(("app_id", credentials.app_id().to_owned()));
    params.push(("nonce_str", entropy.nonce(now)?.as_str().to_owned()));
    if R::SENDS_CHANNEL {
        let alias = credentials.alias().ok_or(BuildError::MissingAlias)?;
        params.push(("channel", alias.to_owned()));
    }
    params.sort_unstable_by(|a, b| a.0.cmp(b.0));
    let pairs = || params.iter().map(|(k, v)| (*k, v.as_str()));
    let sign = liveapi_sign::linkv::sign(pairs(), credentials.secret().expose())?;

    let mut form = form_urlencoded::Serializer::new(String::with_capacity(256));
    form.extend_pairs(pairs());
    form.append_pair("sign", sign.as_str());
    Ok(http_request(
        http::Method::POST,
        credentials.base_url().join(R::PATH, None)?,
        Some(FORM),
        Bytes::from(form.finish()),
    ))
}

macro_rules! linkv_operations {
    ($($request:ty),* $(,)?) => {$(
        impl Operation for $request {
            type Credentials = LinkvCredentials;
            type Output = <$request as LinkvRequest>::Response;
            const VENDOR: Vendor = Vendor::Linkv;
            const NAME: &'static str = <$request as LinkvRequest>::NAME;

            fn build(
                &self,
                credentials: &LinkvCredentials,
                now: SystemTime,
                entropy: &dyn Entropy,
            ) -> Result<http::Request<Bytes>, BuildError> {
                build(self, credentials, now, entropy)
            }

            fn parse(&self, response: &http::Response<Bytes>) -> Result<Self::Output, ApiError> {
                liveapi_model::linkv::decode(response.status().as_u16(), response.body())
            }

            fn request_id(&self) -> Option<&RequestId> {
                LinkvRequest::request_id(self)
            }
        }
    )*};
}

linkv_operations!(ThGetToken, OrderSuccess, ChangeGold, GetUserTokens);
