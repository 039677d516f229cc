//! `soap::parse_envelope` on arbitrary bytes, as SOAP 1.1 or 1.2: never panics, and
//! whatever it answers (the fault for a refusal, with its message built from the
//! caller's input) is a well-formed envelope that parses back.
#![no_main]

use allps_ws::wire::fault::ServiceError;
use allps_ws::wire::soap::{self, SoapVersion};
use allps_ws::wire::xml::{self, XmlLimits};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let limits = XmlLimits::default();
    for version in [SoapVersion::V11, SoapVersion::V12] {
        let answer = match soap::parse_envelope(version, data, &limits) {
            Ok(envelope) => {
                assert!(!envelope.operation.name.is_empty());
                // The operation name is echoed in UNKNOWN_OPERATION messages.
                let message = format!(
                    "{} is not an operation",
                    envelope.operation.qualified_name()
                );
                soap::fault_envelope(
                    version,
                    allps_ws::wire::fault::FaultCode::UnknownOperation,
                    &message,
                )
            }
            Err(ServiceError::Fault { code, message }) => {
                soap::fault_envelope(version, code, &message)
            }
            Err(ServiceError::Internal(detail)) => {
                panic!("internal error from the parser: {detail}")
            }
        };
        let parsed = xml::parse(answer.as_bytes(), &XmlLimits::default())
            .unwrap_or_else(|e| panic!("our own fault is not well-formed: {e}\n{answer}"));
        assert!(parsed.is(version.envelope_ns(), "Envelope"));
    }
});
