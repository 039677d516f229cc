//! Posts a SOAP request file to a running allps-ws and prints the status and response.
//!
//! ```sh
//! cargo run --release -- serve --demo &
//! cargo run --example soap_call -- http://127.0.0.1:8080/allps examples/requests/add_employer.xml
//! ```
//!
//! The Content-Type (SOAP 1.1 `text/xml` or SOAP 1.2 `application/soap+xml`) is chosen from
//! the envelope namespace in the file.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let (Some(url), Some(file)) = (args.next(), args.next()) else {
        eprintln!("usage: soap_call <http://host:port/path> <request.xml>");
        std::process::exit(2);
    };
    let body = std::fs::read(&file)?;
    let rest = url
        .strip_prefix("http://")
        .ok_or("only http:// URLs are supported")?;
    let (authority, path) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, "/"),
    };
    let content_type =
        if String::from_utf8_lossy(&body).contains("http://www.w3.org/2003/05/soap-envelope") {
            "application/soap+xml; charset=utf-8"
        } else {
            "text/xml; charset=utf-8"
        };
    let mut stream = TcpStream::connect(authority)?;
    stream.set_read_timeout(Some(Duration::from_secs(30)))?;
    write!(
        stream,
        "POST {path} HTTP/1.1\r\nHost: {authority}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    )?;
    stream.write_all(&body)?;
    let mut response = String::new();
    stream.read_to_string(&mut response)?;
    let (head, body) = response.split_once("\r\n\r\n").unwrap_or((&response, ""));
    println!("{}", head.lines().next().unwrap_or(""));
    println!("{body}");
    Ok(())
}
