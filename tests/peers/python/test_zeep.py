"""Python zeep against a running allps-ws: loads the served WSDL and calls Login,
AddEmployer, AddClient and GetClient over SOAP 1.1 (port AllpsSoap11) and SOAP 1.2
(port AllpsSoap12), including business refusals (Result codes) and typed faults.

Run by tests/peers/run.sh, which starts the server and sets ALLPS_URL (the endpoint,
e.g. http://127.0.0.1:PORT/allps). By hand:

    ALLPS_URL=http://127.0.0.1:8080/allps .venv-peers/bin/python -m pytest tests/peers/python
"""

import datetime
from decimal import Decimal
import os
import random
import re

import pytest
import zeep
from lxml import etree
from zeep.exceptions import Fault

URL = os.environ.get("ALLPS_URL", "http://127.0.0.1:8080/allps")
TNS = "urn:allps:ws:v1"
PORTS = {"1.1": "AllpsSoap11", "1.2": "AllpsSoap12"}
# One date of birth per SOAP version, so every client this suite adds has its own ID
# number; the sequence digits are random so a rerun against the same database works.
BIRTH = {"1.1": datetime.date(1984, 2, 29), "1.2": datetime.date(1991, 10, 7)}
CREDENTIALS = dict(
    UserName="demo",
    Password="demo-password",
    ComputerName="PY-ZEEP",
    OrgCode="DEMO",
    BranchCode="BR001",
    TerminalType="NONE",
)


def sa_id(born: datetime.date, sequence: int, citizenship: int = 0) -> str:
    """A valid SA ID number: YYMMDD SSSS C A Z (Luhn check digit Z)."""
    body = f"{born:%y%m%d}{sequence:04d}{citizenship}8"
    total = 0
    for i, ch in enumerate(reversed(body)):
        d = int(ch)
        if i % 2 == 0:  # doubled: every second digit counting from the check digit's left
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return body + str((10 - total % 10) % 10)


def luhn_ok(number: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(number)):
        d = int(ch)
        if i % 2 == 1:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


class Peer:
    """A zeep client bound to one port of the served WSDL."""

    def __init__(self, version: str):
        self.version = version
        self.client = zeep.Client(URL + "?wsdl")
        self.service = self.client.bind("AllpsService", PORTS[version])
        self.auth = self.client.get_element(f"{{{TNS}}}AuthHeader")
        self.fault_element = self.client.get_element(f"{{{TNS}}}AllpsFault")
        self.tag = ("P" + version.replace(".", "")) + f"{random.randrange(10**6):06d}"

    def creds(self, **changes):
        return [self.auth(**{**CREDENTIALS, **changes})]

    def session(self, session_id):
        return [self.auth(SessionId=session_id)]

    def login(self, **changes):
        return self.service.Login(**{**CREDENTIALS, **changes})

    def typed_fault(self, fault: Fault):
        """The AllpsFault detail, parsed with the WSDL's own type."""
        assert fault.detail is not None, "the fault has no detail"
        found = fault.detail.find(f"{{{TNS}}}AllpsFault")
        assert found is not None, etree.tostring(fault.detail)
        return self.fault_element.parse(found, self.client.wsdl.types)


@pytest.fixture(scope="module", params=["1.1", "1.2"])
def peer(request):
    return Peer(request.param)


def test_wsdl_names_this_server(peer):
    address = peer.service._binding_options["address"]
    assert address == URL, f"the served WSDL points at {address}, not {URL}"
    binding = peer.service._binding
    assert type(binding).__name__ == ("Soap11Binding" if peer.version == "1.1" else "Soap12Binding")


def test_login_returns_a_session(peer):
    response = peer.login()
    assert response.Result.Code == 0, response
    assert response.Result.Message == "OK"
    assert re.fullmatch(r"\S{16,64}", response.SessionId), response.SessionId
    assert isinstance(response.ExpiresAt, datetime.datetime)
    assert response.ExpiresAt > datetime.datetime.now(datetime.timezone.utc)
    peer.session_id = response.SessionId


def test_login_wrong_password_is_a_typed_fault(peer):
    with pytest.raises(Fault) as caught:
        peer.login(Password="not-the-password")
    fault = caught.value
    # zeep reports the SOAP fault code as the QName's text.
    assert ("Client" if peer.version == "1.1" else "Sender") in fault.code, fault.code
    detail = peer.typed_fault(fault)
    assert detail.Code == "AUTH_FAILED", detail
    assert detail.Message and detail.Message == fault.message
    # the next correct login still works (a failure is no lockout)
    assert peer.login().Result.Code == 0


def test_add_employer_with_credentials_header(peer):
    code = "E" + peer.tag
    r = peer.service.AddEmployer(
        EmployerCode=code, EmployerName="Zeep Traders", PayFrequency="MONTHLY", PayDay=25,
        _soapheaders=peer.creds(),
    )
    assert (r.Code, r.Message) == (0, "OK"), r
    # an identical repeat is accepted; the same code with another name is a conflict
    again = peer.service.AddEmployer(
        EmployerCode=code, EmployerName="Zeep Traders", PayFrequency="MONTHLY", PayDay=25,
        _soapheaders=peer.creds(),
    )
    assert again.Code == 0, again
    clash = peer.service.AddEmployer(
        EmployerCode=code, EmployerName="Other Name", PayFrequency="MONTHLY", PayDay=25,
        _soapheaders=peer.creds(),
    )
    assert clash.Code == 400 and clash.Field == "EmployerCode", clash
    peer.employer = code


def client_fields(peer, **changes):
    born = BIRTH[peer.version]
    fields = dict(
        ClientNumber="C" + peer.tag,
        EmployerCode=peer.employer,
        FirstName="Naledi",
        Surname="van der Merwe",
        IdType="SA_ID",
        IdNumber=sa_id(born, random.randrange(5000), 0),  # sequence < 5000: female
        DateOfBirth=born,
        Gender="F",
        Initials="n.m.",
        CellphoneNumber="+27 82 555 0101",
        EmployeeNumber="PY-7",
        Email="naledi@example.co.za",
    )
    fields.update(changes)
    return fields


def test_add_client_with_session_and_get_it_back(peer):
    fields = client_fields(peer)
    assert luhn_ok(fields["IdNumber"])
    added = peer.service.AddClient(**fields, _soapheaders=peer.session(peer.session_id))
    assert added.Result.Code == 0, added
    number = added.AllpsClientNumber
    assert re.fullmatch(r"AC\d{8}", number), number
    # re-sending the identical request returns the same AllpsClientNumber
    again = peer.service.AddClient(**fields, _soapheaders=peer.session(peer.session_id))
    assert (again.Result.Code, again.AllpsClientNumber) == (0, number), again

    got = peer.service.GetClient(ClientNumber=fields["ClientNumber"], _soapheaders=peer.creds())
    assert got.Result.Code == 0, got
    c = got.Client
    assert c.AllpsClientNumber == number
    for name in ("ClientNumber", "EmployerCode", "FirstName", "Surname", "IdType", "IdNumber",
                 "DateOfBirth", "Gender", "EmployeeNumber", "Email"):
        assert getattr(c, name) == fields[name], (name, getattr(c, name), fields[name])
    assert isinstance(c.DateOfBirth, datetime.date)
    assert c.CellphoneNumber == "0825550101"  # +27 82 555 0101, normalised
    assert c.Initials == "NM"  # "n.m.", normalised
    # no accounts or notes yet: zeep reads the empty lists as empty
    assert got.Accounts is None or not got.Accounts.Account
    assert got.Promissories is None or not got.Promissories.Promissory
    peer.client_fields = fields


def test_same_client_number_with_other_details_is_refused(peer):
    fields = dict(peer.client_fields, FirstName="Someone")
    r = peer.service.AddClient(**fields, _soapheaders=peer.creds())
    assert r.Result.Code == 401 and r.Result.Field == "ClientNumber", r
    assert r.AllpsClientNumber is None


def test_bad_sa_id_is_refused_and_nothing_is_stored(peer):
    good = client_fields(peer, ClientNumber="B" + peer.tag)["IdNumber"]
    bad = good[:12] + str((int(good[12]) + 1) % 10)  # wrong check digit
    fields = client_fields(peer, ClientNumber="B" + peer.tag, IdNumber=bad)
    r = peer.service.AddClient(**fields, _soapheaders=peer.creds())
    assert (r.Result.Code, r.Result.Field) == (106, "IdNumber"), r
    assert r.AllpsClientNumber is None
    got = peer.service.GetClient(ClientNumber=fields["ClientNumber"], _soapheaders=peer.creds())
    assert got.Result.Code == 201 and got.Client is None, got


def test_unknown_employer_is_refused(peer):
    fields = client_fields(peer, ClientNumber="U" + peer.tag, EmployerCode="NOSUCH" + peer.tag[:6])
    r = peer.service.AddClient(**fields, _soapheaders=peer.session(peer.session_id))
    assert (r.Result.Code, r.Result.Field) == (200, "EmployerCode"), r


def test_unknown_session_and_wrong_header_password_are_faults(peer):
    with pytest.raises(Fault) as caught:
        peer.service.GetClient(ClientNumber="C" + peer.tag, _soapheaders=peer.session("no-such-session"))
    assert peer.typed_fault(caught.value).Code == "SESSION_INVALID"
    with pytest.raises(Fault) as caught:
        peer.service.GetClient(ClientNumber="C" + peer.tag, _soapheaders=peer.creds(Password="wrong"))
    assert peer.typed_fault(caught.value).Code == "AUTH_FAILED"
    with pytest.raises(Fault) as caught:
        peer.service.GetClient(ClientNumber="C" + peer.tag)  # no AuthHeader at all
    assert peer.typed_fault(caught.value).Code == "AUTH_REQUIRED"


def test_money_is_decimal_both_ways(peer):
    """CreatePromissory / GetPromissory: xs:decimal Money goes out and comes back as
    decimal.Decimal with its two places; three places are refused (121), not rounded."""
    fields = client_fields(peer, ClientNumber="D" + peer.tag)
    added = peer.service.AddClient(**fields, _soapheaders=peer.creds())
    assert added.Result.Code == 0, added
    amount = Decimal("1250.55")
    note = dict(
        ClientNumber=fields["ClientNumber"], ContractReference="Z" + peer.tag, PaymentStream="EFT",
        BankBranchCode="250655", AccountNumber="62109876542", AccountType="CURRENT",
        InstalmentAmount=amount, NumberOfInstalments=3, Frequency="MONTHLY",
    )
    # the server runs on the wall clock: try dates about six weeks ahead until one is a
    # business day (304 weekend and 305 public holiday are the only acceptable refusals)
    day = datetime.date.today() + datetime.timedelta(days=42)
    for _ in range(10):
        created = peer.service.CreatePromissory(**note, FirstActionDate=day, _soapheaders=peer.creds())
        if created.Result.Code not in (304, 305):
            break
        day += datetime.timedelta(days=1)
    assert created.Result.Code == 0, created
    assert re.fullmatch(r"PN\d{8}", created.PromissoryNumber)
    assert [i.Amount for i in created.Instalments.Instalment] == [amount] * 3
    got = peer.service.GetPromissory(PromissoryNumber=created.PromissoryNumber, _soapheaders=peer.creds())
    assert got.Result.Code == 0, got
    assert isinstance(got.Promissory.InstalmentAmount, Decimal)
    assert got.Promissory.InstalmentAmount == amount
    assert str(got.Promissory.InstalmentAmount) == "1250.55"
    assert got.Promissory.FirstActionDate == day
    too_precise = peer.service.CreatePromissory(
        **dict(note, ContractReference="Y" + peer.tag, InstalmentAmount=Decimal("10.555")),
        FirstActionDate=day, _soapheaders=peer.creds(),
    )
    assert (too_precise.Result.Code, too_precise.Result.Field) == (121, "InstalmentAmount"), too_precise


def test_create_debicheck_promissory(peer):
    """CreateDebiCheckPromissory from the served WSDL: a TT2 mandate awaits the payer's
    authentication; its GetPromissory carries the mandate and each instalment's
    disputability (xs:boolean as bool); a maximum above 1.5 times a FIXED instalment is
    refused (352); TT3 answers in the response (00:30-23:30 SAST, else 356)."""
    fields = client_fields(peer, ClientNumber="M" + peer.tag)
    added = peer.service.AddClient(**fields, _soapheaders=peer.creds())
    assert added.Result.Code == 0, added
    mandate = dict(
        ClientNumber=fields["ClientNumber"], ContractReference="DC" + peer.tag,
        BankBranchCode="250655", AccountNumber="62109876542", AccountType="CURRENT",
        InstalmentAmount=Decimal("500.00"), NumberOfInstalments=2, Frequency="MONTHLY",
        FirstActionDate=datetime.date.today() + datetime.timedelta(days=42),
        AuthenticationType="TT2", DebitValueType="FIXED",
        MaximumCollectionAmount=Decimal("750.00"), DateAdjustmentAllowed=True, TrackingDays=10,
    )
    created = peer.service.CreateDebiCheckPromissory(**mandate, _soapheaders=peer.creds())
    assert created.Result.Code == 0, created
    assert (created.Status, created.AuthenticationStatus) == ("PENDING", "AWAITING_AUTHENTICATION")
    assert len(created.Instalments.Instalment) == 2
    again = peer.service.CreateDebiCheckPromissory(**mandate, _soapheaders=peer.creds())
    assert again.PromissoryNumber == created.PromissoryNumber, again
    got = peer.service.GetPromissory(PromissoryNumber=created.PromissoryNumber, _soapheaders=peer.creds())
    assert got.Result.Code == 0, got
    p = got.Promissory
    assert (p.PaymentStream, p.AuthenticationType, p.AuthenticationStatus) == (
        "DEBICHECK", "TT2", "AWAITING_AUTHENTICATION")
    assert p.MaximumCollectionAmount == Decimal("750.00")
    assert p.DateAdjustmentAllowed is True
    assert isinstance(p.AuthenticationDeadline, datetime.datetime)
    assert all(i.Disputable is False for i in got.Instalments.Instalment)
    assert {i.DisputableReason for i in got.Instalments.Instalment} <= {
        "WITHIN_MANDATE", "PERMITTED_DATE_ADJUSTMENT"}
    too_high = peer.service.CreateDebiCheckPromissory(
        **dict(mandate, ContractReference="DX" + peer.tag, MaximumCollectionAmount=Decimal("750.01")),
        _soapheaders=peer.creds())
    assert (too_high.Result.Code, too_high.Result.Field) == (352, "MaximumCollectionAmount"), too_high
    assert too_high.PromissoryNumber is None
    card = peer.service.CreateDebiCheckPromissory(
        **dict(mandate, ContractReference="DT" + peer.tag, AuthenticationType="TT3"),
        _soapheaders=peer.creds())
    sast = (datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(hours=2)).time()
    if datetime.time(0, 30, 1) <= sast <= datetime.time(23, 29, 59):
        assert (card.Result.Code, card.Status, card.AuthenticationStatus) == (
            0, "ACTIVE", "AUTHENTICATED"), card
    elif card.Result.Code != 0:
        assert card.Result.Code == 356, card
