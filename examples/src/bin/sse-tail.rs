//! A source written on lambda-sse's public API only: `GET /tail` streams the
//! lines of a text file (`TAIL_FILE`) as they are appended, one event per
//! line, until a line `-- end --` (sent with id `end`). Every other event's id
//! is the byte offset after its line, so a client that reconnects with
//! `Last-Event-ID` continues from there: nothing lost, nothing repeated. Between lines it awaits the file
//! (real asynchronous I/O), polling for growth.

use futures_util::stream;
use lambda_sse::{
    Event, Events, Handler, Open, OpenFuture, Refusal, Request, Router, Settings, Source,
    SourceError,
};
use std::{path::PathBuf, time::Duration};
use tokio::io::{AsyncBufReadExt, AsyncSeekExt, BufReader, SeekFrom};

const END: &str = "-- end --";
const POLL: Duration = Duration::from_millis(50);

struct Tail {
    path: PathBuf,
}

impl Source for Tail {
    fn open<'a>(&'a self, _request: &'a Request, last: Option<&'a str>) -> OpenFuture<'a> {
        Box::pin(async move {
            let from = match last {
                Some("end") => return Open::Finished,
                Some(id) => match id.parse::<u64>() {
                    Ok(offset) => offset,
                    Err(_) => {
                        return Open::Refused(Refusal::bad_request(
                            "invalid_last_event_id",
                            "send back an id this stream sent",
                        ));
                    }
                },
                None => 0,
            };
            let opened = async {
                let mut file = BufReader::new(tokio::fs::File::open(&self.path).await?);
                file.seek(SeekFrom::Start(from)).await?;
                Ok::<_, std::io::Error>(file)
            };
            let file = match opened.await {
                Ok(file) => file,
                Err(error) => {
                    return Open::Events(Events::new(stream::once(
                        async move { Err(error.into()) },
                    )));
                }
            };
            Open::Events(Events::new(stream::unfold(
                Some((file, from)),
                |state| async move {
                    let (mut file, mut offset) = state?;
                    // Wait for a whole line: a partial one may still be being written.
                    let mut line = String::new();
                    while !line.ends_with('\n') {
                        match file.read_line(&mut line).await {
                            Ok(0) => tokio::time::sleep(POLL).await,
                            Ok(_) => {}
                            Err(error) => return Some((Err(SourceError::from(error)), None)),
                        }
                    }
                    offset += line.len() as u64;
                    let text = line.trim_end_matches(['\r', '\n']).to_owned();
                    let (id, next) = if text == END {
                        ("end".to_owned(), None)
                    } else {
                        (offset.to_string(), Some((file, offset)))
                    };
                    Some((
                        Event::new().data(text).id(id).map_err(SourceError::from),
                        next,
                    ))
                },
            )))
        })
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_runtime::Error> {
    lambda_sse::init_logging();
    let path = std::env::var_os("TAIL_FILE").ok_or("set TAIL_FILE to the file to stream")?;
    let router = Router::new()
        .route("/tail", Tail { path: path.into() })
        .health("/health");
    lambda_sse::serve(Handler::new(router, Settings::from_env()?)).await
}
