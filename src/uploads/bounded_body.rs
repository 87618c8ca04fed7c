//! The upload's request body, counted as it arrives. Every byte counts
//! (part headers and text fields too, not only the photo), so no part of a
//! request can make the server buffer more than the limit allows: past
//! `hard_cap` the body fails outright; `received` lets the receiver refuse
//! earlier, at the upload limit, and still read on to answer with a page.

use std::cell::Cell;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};

use actix_web::error::PayloadError;
use bytes::Bytes;
use futures_util::Stream;

pub struct BoundedBody<S> {
    inner: S,
    received: Rc<Cell<u64>>,
    hard_cap: u64,
}

impl<S> BoundedBody<S> {
    /// The body, and a counter of the bytes read so far.
    pub fn new(inner: S, hard_cap: u64) -> (Self, Rc<Cell<u64>>) {
        let received = Rc::new(Cell::new(0));
        let body = Self {
            inner,
            received: received.clone(),
            hard_cap,
        };
        (body, received)
    }
}

impl<S> Stream for BoundedBody<S>
where
    S: Stream<Item = Result<Bytes, PayloadError>> + Unpin,
{
    type Item = Result<Bytes, PayloadError>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let next = Pin::new(&mut self.inner).poll_next(cx);
        if let Poll::Ready(Some(Ok(chunk))) = &next {
            let total = self.received.get() + chunk.len() as u64;
            self.received.set(total);
            if total > self.hard_cap {
                return Poll::Ready(Some(Err(PayloadError::Overflow)));
            }
        }
        next
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures_util::StreamExt;

    #[tokio::test]
    async fn counts_every_byte_and_fails_past_the_hard_cap() {
        let chunks = futures_util::stream::iter(
            (0..5).map(|_| Ok::<_, PayloadError>(Bytes::from_static(&[0; 10]))),
        );
        let (mut body, received) = BoundedBody::new(chunks, 35);
        for expected in [10, 20, 30] {
            assert!(body.next().await.unwrap().is_ok());
            assert_eq!(received.get(), expected);
        }
        assert!(matches!(
            body.next().await,
            Some(Err(PayloadError::Overflow))
        ));
    }
}
