//! The client's transport, whatever its type: any [`AsyncHttpSend`] behind one trait object,
//! so that a client's type does not name its transport.

use std::future::Future;
use std::pin::Pin;

use bytes::Bytes;
use liveapi_request::{AsyncHttpSend, TransportError};

/// The response future of a transport, boxed so that a client's type does not name its
/// transport.
type SendFuture<'a> =
    Pin<Box<dyn Future<Output = Result<http::Response<Bytes>, TransportError>> + Send + 'a>>;

/// [`AsyncHttpSend`] as a trait object.
trait ErasedSend: Send + Sync {
    fn send_boxed(&self, request: http::Request<Bytes>) -> SendFuture<'_>;
}

impl<T: AsyncHttpSend> ErasedSend for T {
    fn send_boxed(&self, request: http::Request<Bytes>) -> SendFuture<'_> {
        Box::pin(self.send(request))
    }
}

/// The client's transport, whatever its type; one allocation per attempt is the price, next
/// to a network round trip.
pub(crate) struct Transport {
    send: Box<dyn ErasedSend>,
    pub(crate) name: &'static str,
}

impl Transport {
    pub(crate) fn new<T: AsyncHttpSend + 'static>(transport: T) -> Self {
        Self {
            send: Box::new(transport),
            name: std::any::type_name::<T>(),
        }
    }
}

impl AsyncHttpSend for Transport {
    fn send(
        &self,
        request: http::Request<Bytes>,
    ) -> impl Future<Output = Result<http::Response<Bytes>, TransportError>> + Send {
        self.send.send_boxed(request)
    }
}
