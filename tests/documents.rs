//! The printed promissory documents, read as a person would: each PDF from
//! `PrintPromissory` is decoded from its base64 `Content`, checked against its `Sha256`,
//! opened with poppler (`pdfinfo`, `pdftotext`) and its text asserted: the payer, the
//! masked account, amounts, dates, the fees clause, the signature blocks, and for a
//! cancelled note the cancellation wording. Needs poppler-utils (fails loudly without).
//! Also measures the response size of a 12-instalment note against the 64 KiB default
//! message limit of .NET clients, and checks a few store facts no response shows.

use std::path::PathBuf;
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};

use allps_ws::testing::TestService;
use base64::Engine as _;
use sha2::{Digest as _, Sha256};

const AUTH: &str = r#"<soap:Header><AuthHeader xmlns="urn:allps:ws:v1"><UserName>demo</UserName><Password>demo-password</Password><ComputerName>LENDER-PC01</ComputerName><OrgCode>DEMO</OrgCode><BranchCode>BR001</BranchCode></AuthHeader></soap:Header>"#;

fn envelope(op: &str, body: &str) -> String {
    format!(
        r#"<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/">{AUTH}<soap:Body><{op} xmlns="urn:allps:ws:v1">{body}</{op}></soap:Body></soap:Envelope>"#
    )
}

async fn service() -> TestService {
    let service = TestService::new().await;
    let base = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/base.sql"))
        .expect("fixtures/base.sql");
    service.execute_sql(&base).await;
    service
}

async fn call(service: &TestService, op: &str, body: &str) -> String {
    let response = service.post(&envelope(op, body)).await;
    assert_eq!(response.status, 200, "{}", response.body);
    response.body
}

async fn ok(service: &TestService, op: &str, body: &str) -> String {
    let text = call(service, op, body).await;
    assert!(text.contains("<Code>0</Code>"), "{op} refused: {text}");
    text
}

fn tag<'a>(body: &'a str, name: &str) -> &'a str {
    let open = format!("<{name}>");
    let start = body
        .find(&open)
        .unwrap_or_else(|| panic!("no <{name}> in {body}"))
        + open.len();
    let end = body[start..].find('<').expect("closing tag") + start;
    &body[start..end]
}

fn create(reference: &str, stream: &str, account: (&str, &str, &str), extra: &str) -> String {
    let (branch, number, kind) = account;
    format!(
        "<ClientNumber>C1001</ClientNumber><ContractReference>{reference}</ContractReference>\
         <PaymentStream>{stream}</PaymentStream><BankBranchCode>{branch}</BankBranchCode>\
         <AccountNumber>{number}</AccountNumber><AccountType>{kind}</AccountType>{extra}"
    )
}

const CAPITEC: (&str, &str, &str) = ("470010", "1376543212", "SAVINGS");
const FNB: (&str, &str, &str) = ("250655", "62109876542", "CURRENT");

/// A decoded, checked PDF.
struct Pdf {
    file_name: String,
    bytes: Vec<u8>,
}

fn document(body: &str) -> Pdf {
    assert_eq!(tag(body, "ContentType"), "application/pdf");
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(tag(body, "Content"))
        .expect("Content is base64");
    let sha = Sha256::digest(&bytes);
    let hex: String = sha.iter().map(|b| format!("{b:02x}")).collect();
    assert_eq!(
        tag(body, "Sha256"),
        hex,
        "Sha256 is the digest of the decoded Content"
    );
    assert!(bytes.starts_with(b"%PDF-"), "not a PDF");
    Pdf {
        file_name: tag(body, "FileName").to_string(),
        bytes,
    }
}

struct TempFile(PathBuf);

impl TempFile {
    fn new(bytes: &[u8]) -> Self {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let path = std::env::temp_dir().join(format!(
            "allps-documents-{}-{}.pdf",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::write(&path, bytes).expect("write PDF");
        TempFile(path)
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

fn poppler(tool: &str, args: &[&str], pdf: &Pdf) -> String {
    let file = TempFile::new(&pdf.bytes);
    let mut cmd = Command::new(tool);
    cmd.args(args).arg(&file.0);
    if tool == "pdftotext" {
        cmd.arg("-");
    }
    let out = cmd.output().unwrap_or_else(|e| {
        panic!(
            "cannot run `{tool}` ({e}): install poppler-utils (apt-get install -y poppler-utils)"
        )
    });
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "{tool} failed on {}: {stderr}",
        pdf.file_name
    );
    assert!(
        stderr.trim().is_empty(),
        "{tool} complained about {}: {stderr}",
        pdf.file_name
    );
    String::from_utf8(out.stdout).expect("UTF-8")
}

/// The PDF's text with runs of whitespace collapsed, as a reader sees it.
fn text(pdf: &Pdf) -> String {
    poppler("pdftotext", &["-enc", "UTF-8"], pdf)
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

fn info(pdf: &Pdf, key: &str) -> String {
    poppler("pdfinfo", &["-isodates"], pdf)
        .lines()
        .find_map(|l| l.strip_prefix(&format!("{key}:")))
        .unwrap_or_else(|| panic!("pdfinfo has no {key}"))
        .trim()
        .to_string()
}

fn assert_has(text: &str, wanted: &[&str]) {
    for w in wanted {
        assert!(text.contains(w), "missing {w:?} in:\n{text}");
    }
}

#[tokio::test]
async fn promissory_note_prints_the_agreement_a_payer_signs() {
    let s = service().await;
    let created = ok(
        &s,
        "CreatePromissory",
        &create(
            "LN2026110001",
            "NAEDO",
            CAPITEC,
            "<InstalmentAmount>850.00</InstalmentAmount><NumberOfInstalments>6</NumberOfInstalments>\
             <Frequency>MONTHLY</Frequency><FirstActionDate>2026-11-26</FirstActionDate><TrackingDays>32</TrackingDays>",
        ),
    )
    .await;
    assert_eq!(tag(&created, "PromissoryNumber"), "PN00000001");
    let body = ok(
        &s,
        "PrintPromissory",
        "<PromissoryNumber>PN00000001</PromissoryNumber>",
    )
    .await;
    let pdf = document(&body);
    assert_eq!(pdf.file_name, "promissory-note-PN00000001.pdf");
    assert_eq!(
        info(&pdf, "Title"),
        "Promissory Note and Debit Order Authority"
    );
    assert_eq!(info(&pdf, "CreationDate"), "2026-11-23T08:00:00Z");
    let t = text(&pdf);
    assert_has(
        &t,
        &[
            "Promissory Note and Debit Order Authority",
            "PN00000001",
            "LN2026110001",
            "Thabo Mokoena",
            "8503145123084",
            "Acme Mining (Pty) Ltd (EMP001)",
            "Demo Micro Lender (Pty) Ltd, Demo Branch (BR001)",
            // The lender, identified (fixtures/base.sql records its details).
            "Lender Demo Micro Lender (Pty) Ltd",
            "Trading as Demo Micro Lender",
            "NCR registration number NCRCP00000",
            "Branch Demo Branch (BR001)",
            "Address 12 Main Road, Polokwane, 0699",
            "Telephone 015 000 0000",
            "E-mail accounts@demo-lender.example",
            "Name on your bank statement DEMO LENDER",
            "Each debit shows on the payer's bank statement as \"DEMO LENDER\" with contract reference LN2026110001",
            "Signed at (place):",
            "on (date):",
            "Capitec Bank",
            "470010",
            "******3212",
            "NAEDO (non-authenticated early debit order)",
            "R 850.00",
            "R 5 100.00",
            "2026-11-26 (Thu)",
            "2026-12-24 (Thu)",
            "2027-01-26 (Tue)",
            "2027-03-25 (Thu)",
            "2027-04-26 (Mon)",
            "presented again within 32 days",
            "promise to pay Demo Micro Lender (Pty) Ltd the sum of R 5 100.00 in 6 monthly instalment(s)",
            "created without the payer's card or PIN",
            "Intecon transaction fees therefore cannot be recovered from the payer",
            "Payer: Thabo Mokoena",
            "For the creditor: Demo Micro Lender (Pty) Ltd",
            "Witness 1",
            "Witness 2",
        ],
    );
    assert!(
        !t.contains("1376543212"),
        "the account number must be masked"
    );
    assert!(!t.contains("CANCELLED"));

    // Same note, same bytes: again, and after registration (the status is not printed).
    let again = document(
        &ok(
            &s,
            "PrintPromissory",
            "<PromissoryNumber>PN00000001</PromissoryNumber>",
        )
        .await,
    );
    assert_eq!(again.bytes, pdf.bytes);
    s.clock.advance(time::Duration::hours(1));
    let get = ok(
        &s,
        "GetPromissory",
        "<PromissoryNumber>PN00000001</PromissoryNumber>",
    )
    .await;
    assert_eq!(tag(&get, "Status"), "ACTIVE");
    let active = document(
        &ok(
            &s,
            "PrintPromissory",
            "<PromissoryNumber>PN00000001</PromissoryNumber>",
        )
        .await,
    );
    assert_eq!(active.bytes, pdf.bytes);

    // Cancelled: the cancellation notice instead.
    ok(
        &s,
        "CancelPromissory",
        "<PromissoryNumber>PN00000001</PromissoryNumber><Reason>Loan settled early</Reason>",
    )
    .await;
    let notice = document(
        &ok(
            &s,
            "PrintPromissory",
            "<PromissoryNumber>PN00000001</PromissoryNumber>",
        )
        .await,
    );
    assert_eq!(notice.file_name, "promissory-cancellation-PN00000001.pdf");
    assert_eq!(
        info(&notice, "Title"),
        "Cancellation of Promissory Note and Debit Order Authority"
    );
    assert_eq!(info(&notice, "CreationDate"), "2026-11-23T09:00:00Z");
    let t = text(&notice);
    assert_has(
        &t,
        &[
            "CANCELLED: promissory note PN00000001 and its debit order authority were cancelled on 2026-11-23 11:00 SAST",
            "No instalment that had not been presented will be presented for collection",
            "Loan settled early",
            "Instalments stopped 6",
            "Instalments already presented 0",
            "Thabo Mokoena",
            "******3212",
            "2026-11-26 (Thu) R 850.00 CANCELLED",
            "Payer: Thabo Mokoena",
        ],
    );
    assert!(!t.contains("1376543212"));
    assert!(!t.contains("Witness"), "the notice is not the agreement");
}

#[tokio::test]
async fn edited_instalments_print_as_edited() {
    let s = service().await;
    ok(
        &s,
        "CreatePromissory",
        &create(
            "LN2026110002",
            "EFT",
            FNB,
            "<InstalmentAmount>1250.50</InstalmentAmount><NumberOfInstalments>4</NumberOfInstalments>\
             <Frequency>FORTNIGHTLY</Frequency><FirstActionDate>2026-12-02</FirstActionDate>",
        ),
    )
    .await;
    ok(
        &s,
        "EditInstalment",
        "<PromissoryNumber>PN00000001</PromissoryNumber><InstalmentNumber>2</InstalmentNumber>\
         <ActionDate>2026-12-14</ActionDate><Amount>900.00</Amount>",
    )
    .await;
    let pdf = document(
        &ok(
            &s,
            "PrintPromissory",
            "<PromissoryNumber>PN00000001</PromissoryNumber>",
        )
        .await,
    );
    let t = text(&pdf);
    assert_has(
        &t,
        &[
            "EFT debit order",
            "*******6542",
            "2026-12-02 (Wed) R 1 250.50 0",
            "2026-12-14 (Mon) R 900.00 0",
            "2026-12-30 (Wed) R 1 250.50 0",
            "R 4 651.50",
            "Instructions are not tracked",
        ],
    );
    assert!(!t.contains("62109876542"));
}

#[tokio::test]
async fn twelve_instalment_print_fits_the_dotnet_message_limit() {
    let s = service().await;
    ok(
        &s,
        "CreatePromissory",
        &create(
            "LN2026110012",
            "EFT",
            FNB,
            "<InstalmentAmount>1250.50</InstalmentAmount><NumberOfInstalments>12</NumberOfInstalments>\
             <Frequency>MONTHLY</Frequency><FirstActionDate>2026-12-02</FirstActionDate>",
        ),
    )
    .await;
    let body = ok(
        &s,
        "PrintPromissory",
        "<PromissoryNumber>PN00000001</PromissoryNumber>",
    )
    .await;
    let pdf = document(&body);
    let t = text(&pdf);
    assert_has(&t, &["2027-11-02 (Tue)", "R 15 006.00", "Witness 2"]);
    eprintln!(
        "12-instalment PrintPromissory: SOAP response {} bytes, PDF {} bytes, {} page(s)",
        body.len(),
        pdf.bytes.len(),
        info(&pdf, "Pages")
    );
    assert!(body.len() < 64 * 1024, "response is {} bytes", body.len());
}

#[tokio::test]
async fn passport_clients_and_unverified_banks() {
    let s = service().await;
    ok(
        &s,
        "AddClient",
        "<ClientNumber>C1002</ClientNumber><EmployerCode>EMP001</EmployerCode><FirstName>Sipho</FirstName>\
         <Surname>Ndlovu</Surname><IdType>PASSPORT</IdType><IdNumber>A1234567</IdNumber>\
         <DateOfBirth>1990-01-01</DateOfBirth><Gender>M</Gender>",
    )
    .await;
    let body = create(
        "SG2026110001",
        "SOCIAL_GRANT_EFT",
        ("584000", "1234567890", "SAVINGS"),
        "<InstalmentAmount>450.00</InstalmentAmount><NumberOfInstalments>3</NumberOfInstalments>\
         <Frequency>MONTHLY</Frequency><FirstActionDate>2026-11-30</FirstActionDate>",
    )
    .replace("C1001", "C1002");
    ok(&s, "CreatePromissory", &body).await;
    // Grindrod ships without a check-digit rule: accepted, recorded as not verified.
    let (verified, recoverable, without_card): (bool, bool, bool) = s
        .app
        .db
        .read(|c| {
            let row = allps_ws::store::inspect::row_text(
                c,
                "SELECT check_digit_verified, transaction_fees_recoverable, created_without_card_or_pin
                 FROM promissory_notes WHERE id = 1",
            )
            .expect("store")
            .expect("row");
            let flag = |i: usize| row[i].as_deref() == Some("1");
            (flag(0), flag(1), flag(2))
        })
        .await
        .expect("store");
    assert!(!verified && !recoverable && without_card);
    let pdf = document(
        &ok(
            &s,
            "PrintPromissory",
            "<PromissoryNumber>PN00000001</PromissoryNumber>",
        )
        .await,
    );
    let t = text(&pdf);
    assert_has(
        &t,
        &[
            "Sipho Ndlovu",
            "A1234567 (passport)",
            "passport number A1234567",
            "Grindrod Bank",
            "******7890",
            "Social Grant EFT debit order",
            "R 1 350.00",
        ],
    );
}

#[tokio::test]
async fn completed_and_unknown_notes_do_not_print() {
    let s = service().await;
    ok(
        &s,
        "CreatePromissory",
        &create(
            "LN2026110001",
            "EFT",
            FNB,
            "<InstalmentAmount>100.00</InstalmentAmount><NumberOfInstalments>1</NumberOfInstalments>\
             <Frequency>MONTHLY</Frequency><FirstActionDate>2026-12-02</FirstActionDate>",
        ),
    )
    .await;
    s.execute_sql(
        "UPDATE instalments SET status = 'COLLECTED'; UPDATE promissory_notes SET status = 'COMPLETED';",
    )
    .await;
    let body = call(
        &s,
        "PrintPromissory",
        "<PromissoryNumber>PN00000001</PromissoryNumber>",
    )
    .await;
    assert_eq!(tag(&body, "Code"), "312");
    assert!(!body.contains("<Document>"));
    let body = call(
        &s,
        "PrintPromissory",
        "<PromissoryNumber>PN00000002</PromissoryNumber>",
    )
    .await;
    assert_eq!(tag(&body, "Code"), "211");
}

/// Names from each of the eleven official languages print exactly (embedded DejaVu
/// fonts): in the parties table, the payer's promise and the signature line. Spellings
/// follow each language's standard orthography (PanSALB): Tshivenḓa's ḓ ṱ ṅ ṋ,
/// Afrikaans ê ë ô, Sepedi and Setswana š; isiXhosa, isiZulu, isiNdebele, siSwati,
/// Sesotho, Xitsonga and English use the basic Latin letters (clicks included).
#[tokio::test]
async fn names_in_every_official_language_print_exactly() {
    let s = service().await;
    let names = [
        ("Tshivenḓa", "Ṱhalefhi", "Nemaḓivhe"),
        ("Tshivenḓa", "Muṱhuhadini", "Ṋemakonde-Ṅwanaḓivhe"),
        ("Afrikaans", "Anêl", "du Toit-Bôë"),
        ("Sepedi", "Kgašane", "Maphutha"),
        ("Setswana", "Tšhepo", "Molefe"),
        ("Sesotho", "Mpho", "Mokhehle"),
        ("isiXhosa", "Xolisa", "Qhamata"),
        ("isiZulu", "Sibusiso", "Dlamini"),
        ("isiNdebele", "Nomvula", "Mahlangu"),
        ("siSwati", "Sibongile", "Nxumalo"),
        ("Xitsonga", "Nhlamulo", "Maluleke"),
        ("English", "Siobhán", "O'Brien"),
    ];
    for (i, (language, first, surname)) in names.iter().enumerate() {
        let client = format!("L{i:03}");
        ok(
            &s,
            "AddClient",
            &format!(
                "<ClientNumber>{client}</ClientNumber><EmployerCode>EMP001</EmployerCode>\
                 <FirstName>{first}</FirstName><Surname>{surname}</Surname><IdType>PASSPORT</IdType>\
                 <IdNumber>PL{i:06}</IdNumber><DateOfBirth>1990-01-01</DateOfBirth><Gender>F</Gender>"
            ),
        )
        .await;
        let created = ok(
            &s,
            "CreatePromissory",
            &create(
                &format!("LANG{i:03}"),
                "NAEDO",
                CAPITEC,
                "<InstalmentAmount>850.00</InstalmentAmount><NumberOfInstalments>3</NumberOfInstalments>\
                 <Frequency>MONTHLY</Frequency><FirstActionDate>2026-11-26</FirstActionDate><TrackingDays>0</TrackingDays>",
            )
            .replace("<ClientNumber>C1001</ClientNumber>", &format!("<ClientNumber>{client}</ClientNumber>")),
        )
        .await;
        let number = tag(&created, "PromissoryNumber").to_string();
        let pdf = document(
            &ok(
                &s,
                "PrintPromissory",
                &format!("<PromissoryNumber>{number}</PromissoryNumber>"),
            )
            .await,
        );
        let t = text(&pdf);
        let name = format!("{first} {surname}");
        assert_has(&t, &[&format!("Payer: {name}")]);
        assert!(
            t.matches(name.as_str()).count() >= 3,
            "{language}: {name:?} should print in the parties, the promise and the signature line:\n{t}"
        );
        assert!(
            !t.contains('?'),
            "{language}: a replaced character in:\n{t}"
        );
    }
}

/// Without recorded details the documents still name the lender (its display name) and
/// say that no NCR registration number is recorded; details recorded later print on the
/// next document, with no restart.
#[tokio::test]
async fn lender_details_print_as_recorded() {
    let s = service().await;
    s.execute_sql(
        "UPDATE organisations SET legal_name = NULL, ncr_number = NULL, address = NULL, \
         phone = NULL, email = NULL, statement_name = NULL WHERE code = 'DEMO'",
    )
    .await;
    ok(
        &s,
        "CreatePromissory",
        &create(
            "LN2026110077",
            "NAEDO",
            CAPITEC,
            "<InstalmentAmount>850.00</InstalmentAmount><NumberOfInstalments>2</NumberOfInstalments>\
             <Frequency>MONTHLY</Frequency><FirstActionDate>2026-11-26</FirstActionDate><TrackingDays>0</TrackingDays>",
        ),
    )
    .await;
    let print = || {
        ok(
            &s,
            "PrintPromissory",
            "<PromissoryNumber>PN00000001</PromissoryNumber>",
        )
    };
    let t = text(&document(&print().await));
    assert_has(
        &t,
        &[
            "Lender Demo Micro Lender",
            "NCR registration number not recorded",
            "Name on your bank statement Demo Micro Lender",
        ],
    );
    assert!(!t.contains("Trading as"), "{t}");
    s.execute_sql(
        "UPDATE organisations SET legal_name = 'Thohoyandou Lending CC', ncr_number = 'NCRCP12345', \
         statement_name = 'THOH LEND' WHERE code = 'DEMO'",
    )
    .await;
    let t = text(&document(&print().await));
    assert_has(
        &t,
        &[
            "Lender Thohoyandou Lending CC",
            "Trading as Demo Micro Lender",
            "NCR registration number NCRCP12345",
            "Name on your bank statement THOH LEND",
            "For the creditor: Thohoyandou Lending CC",
        ],
    );
}
