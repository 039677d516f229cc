// Java JAX-WS (wsimport from Debian's jaxws) against a running allps-ws. run.sh generates
// the proxy from the SERVED WSDL into package allps.peer:
//
//   wsimport -extension -XadditionalHeaders -Xnocompile -p allps.peer -s SRC URL?wsdl
//
// (-extension because the SOAP 1.2 binding is an extension for JAX-WS 2.x;
// -XadditionalHeaders so the AuthHeader, bound from another message, becomes a
// parameter) and compiles it with this file. The proxy is the default wrapped style:
// the response's elements come back in Holders. Usage: java PeerTest ENDPOINT_URL
import allps.peer.*;

import java.math.BigDecimal;
import java.net.URL;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.regex.Pattern;
import javax.xml.datatype.DatatypeFactory;
import javax.xml.datatype.XMLGregorianCalendar;
import javax.xml.ws.BindingProvider;
import javax.xml.ws.Holder;
import javax.xml.ws.soap.SOAPBinding;
import javax.xml.ws.soap.SOAPFaultException;

public final class PeerTest {
    private static final Random RANDOM = new Random();
    private static int passed;
    private static final List<String> failures = new ArrayList<>();

    interface Check {
        void run() throws Exception;
    }

    private static void check(String name, Check body) {
        try {
            body.run();
            passed++;
            System.out.println("ok   " + name);
        } catch (Throwable t) {
            failures.add(name);
            System.out.println("FAIL " + name + ": " + t);
            t.printStackTrace(System.out);
        }
    }

    private static void expect(boolean condition, String what) {
        if (!condition) throw new AssertionError(what);
    }

    private static void same(Object expected, Object actual, String what) {
        if (expected == null ? actual != null : !expected.equals(actual)) {
            throw new AssertionError(what + ": expected <" + expected + "> but got <" + actual + ">");
        }
    }

    /** A valid SA ID number: YYMMDD SSSS C A Z, Z the Luhn check digit. */
    static String saId(String yymmdd, int sequence, int citizenship) {
        String body = yymmdd + String.format("%04d", sequence) + citizenship + "8";
        int total = 0;
        for (int i = 0; i < body.length(); i++) {
            int d = body.charAt(body.length() - 1 - i) - '0';
            if (i % 2 == 0) {
                d *= 2;
                if (d > 9) d -= 9;
            }
            total += d;
        }
        return body + ((10 - total % 10) % 10);
    }

    static AuthHeaderType credentials(String password) {
        AuthHeaderType h = new AuthHeaderType();
        h.setUserName("demo");
        h.setPassword(password);
        h.setComputerName("JAVA-JAXWS");
        h.setOrgCode("DEMO");
        h.setBranchCode("BR001");
        h.setTerminalType(TerminalType.NONE);
        return h;
    }

    static AuthHeaderType session(String id) {
        AuthHeaderType h = new AuthHeaderType();
        h.setSessionId(id);
        return h;
    }

    static AllpsFaultType expectFault(String code, Check call) throws Exception {
        try {
            call.run();
        } catch (AllpsFaultMessage f) {
            AllpsFaultType info = f.getFaultInfo();
            expect(info != null, "the fault has no typed AllpsFault detail");
            same(code, info.getCode(), "AllpsFault/Code");
            expect(info.getMessage() != null && !info.getMessage().isEmpty(), "AllpsFault/Message is empty");
            return info;
        }
        throw new AssertionError("expected a fault with code " + code);
    }

    static final class Client {
        final Holder<ResultType> result = new Holder<>();
        final Holder<String> number = new Holder<>();
    }

    static void suite(AllpsService service, String url, String version) throws Exception {
        final boolean v12 = version.equals("1.2");
        final AllpsPortType port = v12 ? service.getAllpsSoap12() : service.getAllpsSoap11();
        final String p = "SOAP " + version + ": ";
        final String tag = "J" + (v12 ? "12" : "11") + String.format("%06d", RANDOM.nextInt(1_000_000));
        final String employer = "E" + tag;
        final String yymmdd = v12 ? "000229" : "770101";
        final XMLGregorianCalendar born = DatatypeFactory.newInstance().newXMLGregorianCalendar(v12 ? "2000-02-29" : "1977-01-01");
        final String[] sessionId = new String[1];

        check(p + "the served WSDL's port points at this server", () -> {
            BindingProvider bp = (BindingProvider) port;
            same(url, bp.getRequestContext().get(BindingProvider.ENDPOINT_ADDRESS_PROPERTY), "endpoint address");
            String binding = ((SOAPBinding) bp.getBinding()).getBindingID();
            same(v12 ? SOAPBinding.SOAP12HTTP_BINDING : SOAPBinding.SOAP11HTTP_BINDING, binding, "binding");
        });

        check(p + "Login returns a session", () -> {
            Holder<ResultType> result = new Holder<>();
            Holder<String> sid = new Holder<>();
            Holder<XMLGregorianCalendar> expires = new Holder<>();
            port.login("demo", "demo-password", "JAVA-JAXWS", "DEMO", "BR001", TerminalType.NONE, result, sid, expires);
            same(0, result.value.getCode(), "Result/Code");
            expect(Pattern.matches("\\S{16,64}", sid.value), "SessionId " + sid.value);
            expect(expires.value.toGregorianCalendar().getTimeInMillis() > System.currentTimeMillis(), "ExpiresAt in the past");
            sessionId[0] = sid.value;
        });

        check(p + "Login with a wrong password is a typed AUTH_FAILED fault", () -> {
            expectFault("AUTH_FAILED", () -> port.login("demo", "wrong-password", "JAVA-JAXWS", "DEMO", "BR001", null,
                    new Holder<>(), new Holder<>(), new Holder<>()));
        });

        check(p + "AddEmployer with credentials; repeat accepted, conflict refused (400)", () -> {
            ResultType r = port.addEmployer(employer, "Java Brewers", PayFrequency.FORTNIGHTLY, 3, credentials("demo-password"));
            same(0, r.getCode(), "Result/Code " + r.getMessage());
            same(0, port.addEmployer(employer, "Java Brewers", PayFrequency.FORTNIGHTLY, 3, credentials("demo-password")).getCode(), "repeat");
            ResultType clash = port.addEmployer(employer, "Other Brewers", PayFrequency.FORTNIGHTLY, 3, credentials("demo-password"));
            same(400, clash.getCode(), "conflict");
            same("EmployerCode", clash.getField(), "Result/Field");
        });

        final String idNumber = saId(yymmdd, 5000 + RANDOM.nextInt(5000), 1);
        final String clientNumber = "C" + tag;
        final String[] allps = new String[1];
        check(p + "AddClient with the SessionId; GetClient returns what was added", () -> {
            Client c = new Client();
            port.addClient(clientNumber, employer, "Pieter", "Botha", IdType.SA_ID, idNumber, born, Gender.M, "P.",
                    "0831234567", null, "pieter@example.net", c.result, c.number, session(sessionId[0]));
            same(0, c.result.value.getCode(), "Result/Code " + c.result.value.getMessage());
            expect(Pattern.matches("AC\\d{8}", c.number.value), "AllpsClientNumber " + c.number.value);
            allps[0] = c.number.value;
            Client again = new Client();
            port.addClient(clientNumber, employer, "Pieter", "Botha", IdType.SA_ID, idNumber, born, Gender.M, "P.",
                    "0831234567", null, "pieter@example.net", again.result, again.number, session(sessionId[0]));
            same(allps[0], again.number.value, "repeat AllpsClientNumber");

            Holder<ResultType> result = new Holder<>();
            Holder<ClientType> client = new Holder<>();
            Holder<ClientAccountListType> accounts = new Holder<>();
            Holder<PromissorySummaryListType> notes = new Holder<>();
            port.getClient(clientNumber, result, client, accounts, notes, credentials("demo-password"));
            same(0, result.value.getCode(), "GetClient Result/Code");
            ClientType got = client.value;
            same(clientNumber, got.getClientNumber(), "ClientNumber");
            same(allps[0], got.getAllpsClientNumber(), "AllpsClientNumber");
            same(employer, got.getEmployerCode(), "EmployerCode");
            same("Pieter", got.getFirstName(), "FirstName");
            same("Botha", got.getSurname(), "Surname");
            same("P", got.getInitials(), "Initials");
            same(IdType.SA_ID, got.getIdType(), "IdType");
            same(idNumber, got.getIdNumber(), "IdNumber");
            same(born, got.getDateOfBirth(), "DateOfBirth");
            same(Gender.M, got.getGender(), "Gender");
            same("0831234567", got.getCellphoneNumber(), "CellphoneNumber");
            same(null, got.getEmployeeNumber(), "EmployeeNumber");
            same("pieter@example.net", got.getEmail(), "Email");
            expect(accounts.value == null || accounts.value.getAccount().isEmpty(), "no accounts");
            expect(notes.value == null || notes.value.getPromissory().isEmpty(), "no notes");
        });

        check(p + "AddClient with a bad SA ID check digit is refused (106); nothing stored", () -> {
            String bad = idNumber.substring(0, 12) + ((idNumber.charAt(12) - '0' + 1) % 10);
            Client c = new Client();
            port.addClient("B" + tag, employer, "Pieter", "Botha", IdType.SA_ID, bad, born, Gender.M, null, null, null, null,
                    c.result, c.number, credentials("demo-password"));
            same(106, c.result.value.getCode(), "Result/Code");
            same("IdNumber", c.result.value.getField(), "Result/Field");
            same(null, c.number.value, "AllpsClientNumber");
            Holder<ResultType> result = new Holder<>();
            Holder<ClientType> client = new Holder<>();
            port.getClient("B" + tag, result, client, new Holder<>(), new Holder<>(), session(sessionId[0]));
            same(201, result.value.getCode(), "GetClient of the refused client");
            same(null, client.value, "Client");
        });

        check(p + "AddClient under an unknown employer is refused (200)", () -> {
            Client c = new Client();
            port.addClient("U" + tag, "NOSUCHEMPLOYER", "Pieter", "Botha", IdType.PASSPORT, "A1234567" + (v12 ? "2" : "1"), born,
                    Gender.M, null, null, null, null, c.result, c.number, credentials("demo-password"));
            same(200, c.result.value.getCode(), "Result/Code");
            same("EmployerCode", c.result.value.getField(), "Result/Field");
        });

        check(p + "Money is BigDecimal both ways (CreatePromissory / GetPromissory); 3 places refused (121)", () -> {
            Client c = new Client();
            String owner = "D" + tag;
            port.addClient(owner, employer, "Pieter", "Botha", IdType.PASSPORT, "PP" + tag, born, Gender.M, null, null, null, null,
                    c.result, c.number, credentials("demo-password"));
            same(0, c.result.value.getCode(), "AddClient " + c.result.value.getMessage());
            BigDecimal amount = new BigDecimal("4321.09");
            DatatypeFactory dates = DatatypeFactory.newInstance();
            // the server runs on the wall clock: from about six weeks ahead, the first business day
            java.time.LocalDate day = java.time.LocalDate.now().plusDays(42);
            Holder<ResultType> result = new Holder<>();
            Holder<String> number = new Holder<>();
            Holder<InstalmentListType> instalments = new Holder<>();
            for (int i = 0; i < 10; i++) {
                port.createPromissory(owner, "Z" + tag, PaymentStream.EFT, "250655", "62109876542", AccountType.CURRENT, amount, 2,
                        Frequency.FORTNIGHTLY, dates.newXMLGregorianCalendar(day.toString()), null, result, number, new Holder<>(),
                        instalments, credentials("demo-password"));
                if (result.value.getCode() != 304 && result.value.getCode() != 305) break;
                day = day.plusDays(1);
            }
            same(0, result.value.getCode(), "CreatePromissory " + result.value.getMessage());
            for (InstalmentType instalment : instalments.value.getInstalment()) same(amount, instalment.getAmount(), "instalment Amount");
            Holder<ResultType> got = new Holder<>();
            Holder<PromissoryType> note = new Holder<>();
            port.getPromissory(number.value, got, note, new Holder<>(), session(sessionId[0]));
            same(0, got.value.getCode(), "GetPromissory");
            same(amount, note.value.getInstalmentAmount(), "InstalmentAmount (BigDecimal, scale 2)");
            port.createPromissory(owner, "Y" + tag, PaymentStream.EFT, "250655", "62109876542", AccountType.CURRENT,
                    new BigDecimal("10.555"), 2, Frequency.FORTNIGHTLY, dates.newXMLGregorianCalendar(day.toString()), null, result,
                    number, new Holder<>(), instalments, credentials("demo-password"));
            same(121, result.value.getCode(), "three decimal places");
            same("InstalmentAmount", result.value.getField(), "Result/Field");
        });

        check(p + "CreateDebiCheckPromissory: TT2 awaits authentication; GetPromissory shows the mandate; 352 refused", () -> {
            Client c = new Client();
            String owner = "M" + tag;
            port.addClient(owner, employer, "Pieter", "Botha", IdType.PASSPORT, "PM" + tag, born, Gender.M, null, null, null, null,
                    c.result, c.number, credentials("demo-password"));
            same(0, c.result.value.getCode(), "AddClient " + c.result.value.getMessage());
            DatatypeFactory dates = DatatypeFactory.newInstance();
            javax.xml.datatype.XMLGregorianCalendar first =
                    dates.newXMLGregorianCalendar(java.time.LocalDate.now().plusDays(42).toString());
            Holder<ResultType> result = new Holder<>();
            Holder<String> number = new Holder<>();
            Holder<PromissoryStatus> status = new Holder<>();
            Holder<AuthenticationStatus> auth = new Holder<>();
            Holder<InstalmentListType> instalments = new Holder<>();
            port.createDebiCheckPromissory(owner, "DC" + tag, "250655", "62109876542", AccountType.CURRENT,
                    new BigDecimal("500.00"), 2, Frequency.MONTHLY, first, AuthenticationType.fromValue("TT2"),
                    DebitValueType.fromValue("FIXED"), new BigDecimal("750.00"), true, 10, null, null, null, null, null,
                    result, number, status, auth, instalments, credentials("demo-password"));
            same(0, result.value.getCode(), "CreateDebiCheckPromissory " + result.value.getMessage());
            same(PromissoryStatus.PENDING, status.value, "Status");
            same("AWAITING_AUTHENTICATION", auth.value.value(), "AuthenticationStatus");
            same(2, instalments.value.getInstalment().size(), "instalments");
            Holder<ResultType> got = new Holder<>();
            Holder<PromissoryType> note = new Holder<>();
            Holder<InstalmentDetailListType> details = new Holder<>();
            port.getPromissory(number.value, got, note, details, session(sessionId[0]));
            same(0, got.value.getCode(), "GetPromissory");
            same("TT2", note.value.getAuthenticationType().value(), "AuthenticationType");
            same(new BigDecimal("750.00"), note.value.getMaximumCollectionAmount(), "MaximumCollectionAmount");
            for (InstalmentDetailType i : details.value.getInstalment()) same(Boolean.FALSE, i.isDisputable(), "Disputable");
            port.createDebiCheckPromissory(owner, "DX" + tag, "250655", "62109876542", AccountType.CURRENT,
                    new BigDecimal("500.00"), 2, Frequency.MONTHLY, first, AuthenticationType.fromValue("TT2"),
                    DebitValueType.fromValue("FIXED"), new BigDecimal("750.01"), true, 10, null, null, null, null, null,
                    result, number, status, auth, instalments, credentials("demo-password"));
            same(352, result.value.getCode(), "maximum above 1.5 times the instalment");
            same("MaximumCollectionAmount", result.value.getField(), "Result/Field");
        });

        check(p + "unknown session / wrong header password / no header are typed faults", () -> {
            expectFault("SESSION_INVALID", () -> port.getClient(clientNumber, new Holder<>(), new Holder<>(), new Holder<>(),
                    new Holder<>(), session("no-such-session")));
            expectFault("AUTH_FAILED", () -> port.getClient(clientNumber, new Holder<>(), new Holder<>(), new Holder<>(),
                    new Holder<>(), credentials("wrong")));
            expectFault("AUTH_REQUIRED", () -> port.getClient(clientNumber, new Holder<>(), new Holder<>(), new Holder<>(),
                    new Holder<>(), null));
        });
    }

    public static void main(String[] args) throws Exception {
        String url = args[0];
        AllpsService service = new AllpsService(new URL(url + "?wsdl"));
        suite(service, url, "1.1");
        suite(service, url, "1.2");
        System.out.println("java wsimport: " + passed + " passed, " + failures.size() + " failed");
        System.exit(failures.isEmpty() ? 0 : 1);
    }
}
