// Mono's wsdl.exe-style proxy (System.Web.Services SoapHttpClientProtocol, Debian's
// mono-devel) against a running allps-ws. run.sh generates the proxy from the SERVED
// WSDL once per SOAP version, into namespace Allps:
//
//   wsdl -protocol:SOAP   -namespace:Allps -out:Allps11.cs URL?wsdl
//   wsdl -protocol:SOAP12 -namespace:Allps -out:Allps12.cs URL?wsdl
//
// and compiles this file against each (with -define:SOAP12 for the second), so one
// program per version. Like .NET, the client sends `Expect: 100-continue` on its
// first POST. wsdl.exe proxies do not map faults to types: the fault arrives as a
// SoapException whose Detail node holds the AllpsFault element.
// Usage: mono peer11.exe ENDPOINT_URL
using System;
using System.Collections.Generic;
using System.Text.RegularExpressions;
using System.Web.Services.Protocols;
using System.Xml;
using Allps;

public static class PeerTest
{
#if SOAP12
    const string Version = "1.2";
    const string Tag = "M12";
    static readonly DateTime Born = new DateTime(1968, 8, 8);
#else
    const string Version = "1.1";
    const string Tag = "M11";
    static readonly DateTime Born = new DateTime(1995, 5, 31);
#endif
    const string Tns = "urn:allps:ws:v1";
    static int passed;
    static readonly List<string> failures = new List<string>();
    static readonly Random random = new Random();

    static void Check(string name, Action body)
    {
        try
        {
            body();
            passed++;
            Console.WriteLine("ok   SOAP " + Version + ": " + name);
        }
        catch (Exception e)
        {
            failures.Add(name);
            Console.WriteLine("FAIL SOAP " + Version + ": " + name + ": " + e);
        }
    }

    static void Expect(bool condition, string what)
    {
        if (!condition) throw new Exception("assertion failed: " + what);
    }

    static void Same(object expected, object actual, string what)
    {
        if (!Equals(expected, actual))
            throw new Exception(what + ": expected <" + expected + "> but got <" + actual + ">");
    }

    /// A valid SA ID number: YYMMDD SSSS C A Z, Z the Luhn check digit.
    static string SaId(DateTime born, int sequence, int citizenship)
    {
        string body = born.ToString("yyMMdd") + sequence.ToString("D4") + citizenship + "8";
        int total = 0;
        for (int i = 0; i < body.Length; i++)
        {
            int d = body[body.Length - 1 - i] - '0';
            if (i % 2 == 0)
            {
                d *= 2;
                if (d > 9) d -= 9;
            }
            total += d;
        }
        return body + ((10 - total % 10) % 10);
    }

    static AuthHeaderType Credentials(string password)
    {
        return new AuthHeaderType
        {
            UserName = "demo",
            Password = password,
            ComputerName = "MONO-ASMX",
            OrgCode = "DEMO",
            BranchCode = "BR001",
            TerminalType = TerminalType.NONE,
            TerminalTypeSpecified = true,
        };
    }

    static AuthHeaderType Session(string id)
    {
        return new AuthHeaderType { SessionId = id };
    }

    /// Runs `call`, which must fail with a SOAP fault whose AllpsFault/Code is `code`.
    static void ExpectFault(string code, Action call)
    {
        try
        {
            call();
        }
        catch (SoapException e)
        {
            string expectedCode = Version == "1.1" ? "Client" : "Sender";
            Same(expectedCode, e.Code.Name, "fault code");
            Expect(e.Detail != null, "the fault has no detail");
            var ns = new XmlNamespaceManager(e.Detail.OwnerDocument.NameTable);
            ns.AddNamespace("a", Tns);
            XmlNode fault = e.Detail.SelectSingleNode("a:AllpsFault", ns);
            Expect(fault != null, "no AllpsFault in the detail: " + e.Detail.OuterXml);
            Same(code, fault.SelectSingleNode("a:Code", ns).InnerText, "AllpsFault/Code");
            Same(e.Message, fault.SelectSingleNode("a:Message", ns).InnerText, "AllpsFault/Message");
            return;
        }
        throw new Exception("expected a fault with code " + code);
    }

    public static int Main(string[] args)
    {
        string url = args[0];
        var service = new AllpsService();
        string tag = Tag + random.Next(1000000).ToString("D6");
        string employer = "E" + tag;
        string clientNumber = "C" + tag;
        string idNumber = SaId(Born, random.Next(5000), 0); // sequence < 5000: female
        string sessionId = null;

        Check("the generated proxy's Url (from the served WSDL) is this server", () =>
        {
            Same(url, service.Url, "Url");
            // wsdl.exe leaves SOAP 1.1 proxies on Default (= SOAP 1.1) and sets Soap12 for SOAP 1.2
            Same(Version == "1.1" ? SoapProtocolVersion.Default : SoapProtocolVersion.Soap12, service.SoapVersion, "SoapVersion");
        });

        Check("Login returns a session", () =>
        {
            string sid;
            DateTime expires;
            bool expiresSpecified;
            ResultType r = service.Login("demo", "demo-password", "MONO-ASMX", "DEMO", "BR001", TerminalType.NONE, true,
                out sid, out expires, out expiresSpecified);
            Same(0, r.Code, "Result/Code");
            Expect(Regex.IsMatch(sid, @"^\S{16,64}$"), "SessionId " + sid);
            Expect(expiresSpecified && expires.ToUniversalTime() > DateTime.UtcNow, "ExpiresAt " + expires);
            sessionId = sid;
        });

        Check("Login with a wrong password is an AUTH_FAILED fault with the AllpsFault detail", () =>
        {
            ExpectFault("AUTH_FAILED", () =>
            {
                string sid;
                DateTime expires;
                bool expiresSpecified;
                service.Login("demo", "wrong-password", "MONO-ASMX", "DEMO", "BR001", TerminalType.NONE, false,
                    out sid, out expires, out expiresSpecified);
            });
        });

        Check("AddEmployer with credentials; repeat accepted, conflict refused (400)", () =>
        {
            service.AuthHeader = Credentials("demo-password");
            Same(0, service.AddEmployer(employer, "Mono Motors", PayFrequency.MONTHLY, true, 28, true).Code, "Result/Code");
            Same(0, service.AddEmployer(employer, "Mono Motors", PayFrequency.MONTHLY, true, 28, true).Code, "repeat");
            ResultType clash = service.AddEmployer(employer, "Mono Motors", PayFrequency.MONTHLY, true, 27, true);
            Same(400, clash.Code, "conflict");
            Same("EmployerCode", clash.Field, "Result/Field");
        });

        string allps = null;
        Check("AddClient with the SessionId; GetClient returns what was added", () =>
        {
            service.AuthHeader = Session(sessionId);
            ResultType r = service.AddClient(clientNumber, employer, "Zanele", "Nkosi-Smith", IdType.SA_ID, idNumber, Born,
                Gender.F, "Z", "+27611234567", "M-1", null, out allps);
            Same(0, r.Code, "Result/Code " + r.Message);
            Expect(Regex.IsMatch(allps, @"^AC\d{8}$"), "AllpsClientNumber " + allps);
            string again;
            service.AddClient(clientNumber, employer, "Zanele", "Nkosi-Smith", IdType.SA_ID, idNumber, Born,
                Gender.F, "Z", "+27611234567", "M-1", null, out again);
            Same(allps, again, "repeat AllpsClientNumber");

            service.AuthHeader = Credentials("demo-password");
            ClientType c;
            ClientAccountType[] accounts;
            PromissorySummaryType[] notes;
            ResultType g = service.GetClient(clientNumber, out c, out accounts, out notes);
            Same(0, g.Code, "GetClient Result/Code");
            Same(clientNumber, c.ClientNumber, "ClientNumber");
            Same(allps, c.AllpsClientNumber, "AllpsClientNumber");
            Same(employer, c.EmployerCode, "EmployerCode");
            Same("Zanele", c.FirstName, "FirstName");
            Same("Nkosi-Smith", c.Surname, "Surname");
            Same("Z", c.Initials, "Initials");
            Same(IdType.SA_ID, c.IdType, "IdType");
            Same(idNumber, c.IdNumber, "IdNumber");
            Same(Born, c.DateOfBirth, "DateOfBirth");
            Same(Gender.F, c.Gender, "Gender");
            Same("0611234567", c.CellphoneNumber, "CellphoneNumber (normalised)");
            Same("M-1", c.EmployeeNumber, "EmployeeNumber");
            Same(null, c.Email, "Email");
            Expect(accounts == null || accounts.Length == 0, "no accounts");
            Expect(notes == null || notes.Length == 0, "no notes");
        });

        Check("AddClient with a bad SA ID check digit is refused (106); nothing stored", () =>
        {
            service.AuthHeader = Credentials("demo-password");
            string bad = idNumber.Substring(0, 12) + ((idNumber[12] - '0' + 1) % 10);
            string number;
            ResultType r = service.AddClient("B" + tag, employer, "Zanele", "Nkosi", IdType.SA_ID, bad, Born, Gender.F,
                null, null, null, null, out number);
            Same(106, r.Code, "Result/Code");
            Same("IdNumber", r.Field, "Result/Field");
            Same(null, number, "AllpsClientNumber");
            ClientType c;
            ClientAccountType[] accounts;
            PromissorySummaryType[] notes;
            Same(201, service.GetClient("B" + tag, out c, out accounts, out notes).Code, "GetClient of the refused client");
            Same(null, c, "Client");
        });

        Check("AddClient under an unknown employer is refused (200)", () =>
        {
            service.AuthHeader = Session(sessionId);
            string number;
            ResultType r = service.AddClient("U" + tag, "NOSUCHEMPLOYER", "Zanele", "Nkosi", IdType.PASSPORT, "P" + tag, Born,
                Gender.F, null, null, null, null, out number);
            Same(200, r.Code, "Result/Code");
            Same("EmployerCode", r.Field, "Result/Field");
        });

        Check("Money is System.Decimal both ways (CreatePromissory / GetPromissory); 3 places refused (121)", () =>
        {
            service.AuthHeader = Credentials("demo-password");
            string owner = "D" + tag, number;
            Same(0, service.AddClient(owner, employer, "Zanele", "Nkosi", IdType.PASSPORT, "Q" + tag, Born, Gender.F,
                null, null, null, null, out number).Code, "AddClient");
            decimal amount = 777.70m;
            // the server runs on the wall clock: from about six weeks ahead, the first business day
            DateTime day = DateTime.Today.AddDays(42);
            ResultType r = null;
            string note = null;
            InstalmentType[] instalments = null;
            for (int i = 0; i < 10; i++)
            {
                PromissoryStatus status;
                bool statusSpecified;
                r = service.CreatePromissory(owner, "Z" + tag, PaymentStream.EFT, "250655", "62109876542", AccountType.CURRENT,
                    amount, 3, Frequency.MONTHLY, day, 0, false, out note, out status, out statusSpecified, out instalments);
                if (r.Code != 304 && r.Code != 305) break;
                day = day.AddDays(1);
            }
            Same(0, r.Code, "CreatePromissory " + r.Message);
            foreach (InstalmentType instalment in instalments)
                Same("777.70", instalment.Amount.ToString(System.Globalization.CultureInfo.InvariantCulture), "instalment Amount (scale kept)");
            service.AuthHeader = Session(sessionId);
            PromissoryType got;
            InstalmentDetailType[] details;
            Same(0, service.GetPromissory(note, out got, out details).Code, "GetPromissory");
            Same(amount, got.InstalmentAmount, "InstalmentAmount");
            Same("777.70", got.InstalmentAmount.ToString(System.Globalization.CultureInfo.InvariantCulture), "InstalmentAmount text");
            PromissoryStatus s2;
            bool s2Specified;
            ResultType precise = service.CreatePromissory(owner, "Y" + tag, PaymentStream.EFT, "250655", "62109876542",
                AccountType.CURRENT, 10.555m, 3, Frequency.MONTHLY, day, 0, false, out note, out s2, out s2Specified, out instalments);
            Same(121, precise.Code, "three decimal places");
            Same("InstalmentAmount", precise.Field, "Result/Field");
        });

        Check("CreateDebiCheckPromissory: TT2 awaits authentication; GetPromissory shows the mandate; 352 refused", () =>
        {
            service.AuthHeader = Credentials("demo-password");
            string owner = "M" + tag, number, note;
            Same(0, service.AddClient(owner, employer, "Zanele", "Nkosi", IdType.PASSPORT, "QM" + tag, Born, Gender.F,
                null, null, null, null, out number).Code, "AddClient");
            DateTime first = DateTime.Today.AddDays(42);
            PromissoryStatus status;
            bool statusSpecified;
            AuthenticationStatus auth;
            bool authSpecified;
            InstalmentType[] instalments;
            ResultType r = service.CreateDebiCheckPromissory(owner, "DC" + tag, "250655", "62109876542", AccountType.CURRENT,
                500.00m, 2, Frequency.MONTHLY, first, AuthenticationType.TT2, DebitValueType.FIXED, 750.00m, true,
                10, true, DebitSequence.RCUR, false, AdjustmentCategory.NEVER, false, 0, false, 0m, false, 0m, false,
                out note, out status, out statusSpecified, out auth, out authSpecified, out instalments);
            Same(0, r.Code, "CreateDebiCheckPromissory " + r.Message);
            Same(PromissoryStatus.PENDING, status, "Status");
            Same(AuthenticationStatus.AWAITING_AUTHENTICATION, auth, "AuthenticationStatus");
            Same(2, instalments.Length, "instalments");
            PromissoryType got;
            InstalmentDetailType[] details;
            Same(0, service.GetPromissory(note, out got, out details).Code, "GetPromissory");
            Same(AuthenticationType.TT2, got.AuthenticationType, "AuthenticationType");
            Same(750.00m, got.MaximumCollectionAmount, "MaximumCollectionAmount");
            foreach (InstalmentDetailType i in details) Same(false, i.Disputable, "Disputable");
            ResultType high = service.CreateDebiCheckPromissory(owner, "DX" + tag, "250655", "62109876542", AccountType.CURRENT,
                500.00m, 2, Frequency.MONTHLY, first, AuthenticationType.TT2, DebitValueType.FIXED, 750.01m, true,
                10, true, DebitSequence.RCUR, false, AdjustmentCategory.NEVER, false, 0, false, 0m, false, 0m, false,
                out note, out status, out statusSpecified, out auth, out authSpecified, out instalments);
            Same(352, high.Code, "maximum above 1.5 times the instalment");
            Same("MaximumCollectionAmount", high.Field, "Result/Field");
        });

        Check("unknown session / wrong header password / no header are typed faults", () =>
        {
            ClientType c;
            ClientAccountType[] accounts;
            PromissorySummaryType[] notes;
            service.AuthHeader = Session("no-such-session");
            ExpectFault("SESSION_INVALID", () => service.GetClient(clientNumber, out c, out accounts, out notes));
            service.AuthHeader = Credentials("wrong");
            ExpectFault("AUTH_FAILED", () => service.GetClient(clientNumber, out c, out accounts, out notes));
            service.AuthHeader = null;
            ExpectFault("AUTH_REQUIRED", () => service.GetClient(clientNumber, out c, out accounts, out notes));
        });

        Console.WriteLine("mono wsdl SOAP " + Version + ": " + passed + " passed, " + failures.Count + " failed");
        return failures.Count == 0 ? 0 : 1;
    }
}
