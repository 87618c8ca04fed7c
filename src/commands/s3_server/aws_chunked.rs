//! The `aws-chunked` body encoding that SDKs use for streaming uploads:
//! `SIZE-IN-HEX[;chunk-signature=SIG]\r\nDATA\r\n` per chunk, an empty last
//! chunk, then maybe trailing headers (a checksum, and its signature).
//! Decoded as the bytes arrive, so an upload is never held in memory.
//! <https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-streaming.html>

use sha2::{Digest, Sha256};

use super::error::S3Error;
use super::signature::ChunkSigner;

/// The longest chunk header or trailer line accepted.
const MAX_LINE: usize = 4096;

enum State {
    Header,
    Data {
        remaining: usize,
        signature: Option<String>,
        hash: Sha256,
    },
    DataEnd,
    Trailer,
    Done,
}

pub struct ChunkDecoder {
    signer: Option<ChunkSigner>,
    pending: Vec<u8>,
    state: State,
    /// Trailing headers seen so far, `name:value` by lower-case name.
    pub trailers: Vec<(String, String)>,
}

impl ChunkDecoder {
    /// Each chunk's signature is checked when `signer` is given.
    pub fn new(signer: Option<ChunkSigner>) -> Self {
        Self {
            signer,
            pending: Vec::new(),
            state: State::Header,
            trailers: Vec::new(),
        }
    }

    /// Decodes `input`, appending the object's bytes to `out`.
    pub fn push(&mut self, input: &[u8], out: &mut Vec<u8>) -> Result<(), S3Error> {
        self.pending.extend_from_slice(input);
        let mut at = 0;
        loop {
            let rest = &self.pending[at..];
            match &mut self.state {
                State::Header => {
                    let Some(line) = take_line(rest)? else { break };
                    at += line.len() + 2;
                    let line = line.to_vec();
                    self.state = self.chunk_header(&line)?;
                }
                State::Data {
                    remaining,
                    signature,
                    hash,
                } => {
                    let take = (*remaining).min(rest.len());
                    out.extend_from_slice(&rest[..take]);
                    hash.update(&rest[..take]);
                    *remaining -= take;
                    at += take;
                    if *remaining > 0 {
                        break;
                    }
                    let digest = std::mem::take(hash).finalize();
                    let signature = signature.take();
                    self.check_chunk(signature.as_deref(), &digest)?;
                    self.state = State::DataEnd;
                }
                State::DataEnd => {
                    if rest.len() < 2 {
                        break;
                    }
                    if &rest[..2] != b"\r\n" {
                        return Err(bad("a chunk's data is not followed by CRLF"));
                    }
                    at += 2;
                    self.state = State::Header;
                }
                State::Trailer => {
                    let Some(line) = take_line(rest)? else { break };
                    at += line.len() + 2;
                    let line = String::from_utf8_lossy(line).into_owned();
                    self.trailer(&line)?;
                }
                State::Done => break,
            }
        }
        self.pending.drain(..at);
        Ok(())
    }

    /// Whether the body ended where the encoding says it ends.
    pub fn finish(&self) -> Result<(), S3Error> {
        match self.state {
            State::Done => Ok(()),
            _ => Err(S3Error::new(
                actix_web::http::StatusCode::BAD_REQUEST,
                "IncompleteBody",
                "the aws-chunked body ended before its last chunk",
            )),
        }
    }

    fn chunk_header(&mut self, line: &[u8]) -> Result<State, S3Error> {
        let line = std::str::from_utf8(line).map_err(|_| bad("a chunk header is not text"))?;
        let (size, extension) = line.split_once(';').unwrap_or((line, ""));
        let size = usize::from_str_radix(size.trim(), 16)
            .map_err(|_| bad(&format!("{size:?} is not a chunk size in hex")))?;
        let signature = extension
            .trim()
            .strip_prefix("chunk-signature=")
            .map(str::to_owned);
        if size > 0 {
            return Ok(State::Data {
                remaining: size,
                signature,
                hash: Sha256::new(),
            });
        }
        self.check_chunk(signature.as_deref(), &Sha256::digest(b""))?;
        Ok(State::Trailer)
    }

    fn check_chunk(&mut self, signature: Option<&str>, digest: &[u8]) -> Result<(), S3Error> {
        match (&mut self.signer, signature) {
            (Some(signer), Some(signature)) => signer.check_chunk(signature, digest),
            (Some(_), None) => Err(S3Error::signature_mismatch()),
            (None, _) => Ok(()),
        }
    }

    fn trailer(&mut self, line: &str) -> Result<(), S3Error> {
        if line.is_empty() {
            self.state = State::Done;
            return Ok(());
        }
        let (name, value) = line
            .split_once(':')
            .ok_or_else(|| bad(&format!("the trailer {line:?} is not NAME:VALUE")))?;
        let name = name.trim().to_ascii_lowercase();
        let value = value.trim().to_owned();
        if name == "x-amz-trailer-signature" {
            if let Some(signer) = &mut self.signer {
                let canonical: String = self
                    .trailers
                    .iter()
                    .map(|(n, v)| format!("{n}:{v}\n"))
                    .collect();
                signer.check_trailer(&value, &canonical)?;
            }
        } else {
            self.trailers.push((name, value));
        }
        Ok(())
    }
}

/// The next CRLF-ended line, without its CRLF; None until it is all there.
fn take_line(bytes: &[u8]) -> Result<Option<&[u8]>, S3Error> {
    match bytes.windows(2).position(|w| w == b"\r\n") {
        Some(end) => Ok(Some(&bytes[..end])),
        None if bytes.len() > MAX_LINE => Err(bad("a chunk header line is too long")),
        None => Ok(None),
    }
}

fn bad(message: &str) -> S3Error {
    S3Error::invalid_request(format!("malformed aws-chunked body: {message}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    type Decoded = (Vec<u8>, Vec<(String, String)>);

    fn decode(body: &[u8], piece: usize) -> Result<Decoded, S3Error> {
        let mut decoder = ChunkDecoder::new(None);
        let mut out = Vec::new();
        for part in body.chunks(piece) {
            decoder.push(part, &mut out)?;
        }
        decoder.finish()?;
        Ok((out, decoder.trailers))
    }

    #[test]
    fn chunks_and_a_trailer_decode_whatever_the_pieces_they_arrive_in() {
        let body = b"5\r\nhello\r\n6\r\n world\r\n0\r\nx-amz-checksum-crc32:DUoRhQ==\r\n\r\n";
        for piece in [1, 2, 3, 7, body.len()] {
            let (out, trailers) = decode(body, piece).unwrap();
            assert_eq!(out, b"hello world", "pieces of {piece}");
            assert_eq!(
                trailers,
                [("x-amz-checksum-crc32".to_owned(), "DUoRhQ==".to_owned())]
            );
        }
    }

    /// AWS's worked example of a streaming upload with signed chunks
    /// (SigV4 streaming, "Example: PUT Object").
    #[test]
    fn the_aws_documented_signed_chunks_verify_and_a_changed_byte_does_not() {
        use crate::commands::s3_server::signature::{verify, Payload, RequestParts};
        let headers = |name: &str| -> Vec<String> {
            let value = match name {
                "host" => "s3.amazonaws.com",
                "x-amz-date" => "20130524T000000Z",
                "x-amz-storage-class" => "REDUCED_REDUNDANCY",
                "x-amz-content-sha256" => "STREAMING-AWS4-HMAC-SHA256-PAYLOAD",
                "content-encoding" => "aws-chunked",
                "x-amz-decoded-content-length" => "66560",
                "content-length" => "66824",
                "authorization" => "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,SignedHeaders=content-encoding;content-length;host;x-amz-content-sha256;x-amz-date;x-amz-decoded-content-length;x-amz-storage-class,Signature=4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9",
                _ => return vec![],
            };
            vec![value.to_owned()]
        };
        let request = RequestParts {
            method: "PUT",
            path: "/examplebucket/chunkObject.txt",
            query: &crate::commands::s3_server::query::Query::parse(""),
            header: &headers,
        };
        let at = humantime::parse_rfc3339("2013-05-24T00:00:00Z").unwrap();
        let signer = || match verify(
            &request,
            "AKIAIOSFODNN7EXAMPLE",
            "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
            at,
        ) {
            Ok(Payload::Chunked { signer }) => signer,
            other => panic!("{other:?}"),
        };
        let mut body = Vec::new();
        body.extend_from_slice(b"10000;chunk-signature=ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648\r\n");
        body.extend_from_slice(&[b'a'; 65536]);
        body.extend_from_slice(b"\r\n400;chunk-signature=0055627c9e194cb4542bae2aa5492e3c1575bbb81b612b7d234b86a503ef5497\r\n");
        body.extend_from_slice(&[b'a'; 1024]);
        body.extend_from_slice(b"\r\n0;chunk-signature=b6c6ea8a5354eaf15b3cb7646744f4275b71ea724fed81ceb9323e279d449df9\r\n\r\n");
        assert_eq!(body.len(), 66824);
        let mut decoder = ChunkDecoder::new(signer());
        let mut out = Vec::new();
        for piece in body.chunks(1000) {
            decoder.push(piece, &mut out).unwrap();
        }
        decoder.finish().unwrap();
        assert_eq!(out.len(), 66560);

        let mut changed = body.clone();
        changed[70_000 - 4000] = b'b';
        let mut decoder = ChunkDecoder::new(signer());
        let refused = changed
            .chunks(1000)
            .try_for_each(|piece| decoder.push(piece, &mut out));
        assert_eq!(refused.unwrap_err().code, "SignatureDoesNotMatch");
    }

    #[test]
    fn a_body_cut_short_or_garbled_is_refused() {
        assert_eq!(
            decode(b"5\r\nhello\r\n", 4).unwrap_err().code,
            "IncompleteBody"
        );
        assert!(decode(b"zz\r\nhello\r\n0\r\n\r\n", 4).is_err());
        assert!(decode(b"5\r\nhelloXX0\r\n\r\n", 4).is_err());
    }
}
