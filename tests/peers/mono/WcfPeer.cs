// Mono WCF (System.ServiceModel) against a running allps-ws, over SOAP 1.1
// (BasicHttpBinding) and SOAP 1.2 (a CustomBinding with MessageVersion.Soap12, as a
// svcutil-generated .NET client of a SOAP 1.2 binding without WS-Addressing uses).
//
// Mono's svcutil cannot read a plain WSDL, so the contract below is written by hand from
// wsdl/allps.wsdl (document/literal wrapped, XmlSerializer, the AuthHeader as a message
// header, AllpsFault as the typed fault); the endpoint addresses come from the SERVED
// WSDL. Mono's WCF differs from .NET's in two ways the contract works around: it writes
// message headers and reads fault details with the DataContractSerializer even under
// [XmlSerializerFormat] (so AuthHeaderType and AllpsFaultType also carry [DataContract]
// names in the service namespace), and it ignores DataType="date" on a message body member
// (so DateOfBirth is sent as yyyy-MM-dd text). Mono also matches a typed fault by the
// detail element's name and namespace only after its Action check, which is why the fault
// contract's Name/Namespace must be exact. What this adds to the wsdl.exe proxies is WCF's own wire format: for SOAP 1.2 a
// UTF-8 BOM before <?xml, `application/soap+xml` with the action in a separate SOAPAction
// header, the `s:` prefix, and `Expect: 100-continue`.
// Usage: mono wcf.exe ENDPOINT_URL
using System;
using System.Collections.Generic;
using System.Net;
using System.Runtime.Serialization;
using System.ServiceModel;
using System.ServiceModel.Channels;
using System.Text;
using System.Text.RegularExpressions;
using System.Xml;
using System.Xml.Serialization;

namespace AllpsWcf
{
    static class Ns
    {
        public const string Tns = "urn:allps:ws:v1";
    }

    [XmlType(Namespace = Ns.Tns)]
    [DataContract(Namespace = Ns.Tns)]
    public class ResultType
    {
        [XmlElement(Order = 0)] [DataMember(Order = 0)] public int Code;
        [XmlElement(Order = 1)] [DataMember(Order = 1)] public string Message;
        [XmlElement(Order = 2)] [DataMember(Order = 2)] public string Field;
    }

    [XmlType(Namespace = Ns.Tns)]
    [DataContract(Name = "AuthHeader", Namespace = Ns.Tns)]
    public class AuthHeaderType
    {
        [XmlElement(Order = 0)] [DataMember(Order = 0, EmitDefaultValue = false)] public string UserName;
        [XmlElement(Order = 1)] [DataMember(Order = 1, EmitDefaultValue = false)] public string Password;
        [XmlElement(Order = 2)] [DataMember(Order = 2, EmitDefaultValue = false)] public string ComputerName;
        [XmlElement(Order = 3)] [DataMember(Order = 3, EmitDefaultValue = false)] public string OrgCode;
        [XmlElement(Order = 4)] [DataMember(Order = 4, EmitDefaultValue = false)] public string BranchCode;
        [XmlElement(Order = 5)] [DataMember(Order = 5, EmitDefaultValue = false)] public string TerminalType;
        [XmlElement(Order = 6)] [DataMember(Order = 6, EmitDefaultValue = false)] public string SessionId;
    }

    [XmlType(Namespace = Ns.Tns)]
    [DataContract(Name = "AllpsFault", Namespace = Ns.Tns)]
    public class AllpsFaultType
    {
        [XmlElement(Order = 0)] [DataMember(Order = 0)] public string Code;
        [XmlElement(Order = 1)] [DataMember(Order = 1)] public string Message;
    }

    [XmlType(Namespace = Ns.Tns)]
    [DataContract(Namespace = Ns.Tns)]
    public class ClientType
    {
        [XmlElement(Order = 0)] [DataMember(Order = 0)] public string ClientNumber;
        [XmlElement(Order = 1)] [DataMember(Order = 1)] public string AllpsClientNumber;
        [XmlElement(Order = 2)] [DataMember(Order = 2)] public string EmployerCode;
        [XmlElement(Order = 3)] [DataMember(Order = 3)] public string FirstName;
        [XmlElement(Order = 4)] [DataMember(Order = 4)] public string Surname;
        [XmlElement(Order = 5)] [DataMember(Order = 5)] public string Initials;
        [XmlElement(Order = 6)] [DataMember(Order = 6)] public string IdType;
        [XmlElement(Order = 7)] [DataMember(Order = 7)] public string IdNumber;
        [XmlElement(Order = 8)] [DataMember(Order = 8)] public string DateOfBirth;
        [XmlElement(Order = 9)] [DataMember(Order = 9)] public string Gender;
        [XmlElement(Order = 10)] [DataMember(Order = 10)] public string CellphoneNumber;
        [XmlElement(Order = 11)] [DataMember(Order = 11)] public string EmployeeNumber;
        [XmlElement(Order = 12)] [DataMember(Order = 12)] public string Email;
    }

    [MessageContract(WrapperName = "Login", WrapperNamespace = Ns.Tns, IsWrapped = true)]
    public class LoginRequest
    {
        [MessageBodyMember(Namespace = Ns.Tns, Order = 0)] public string UserName;
        [MessageBodyMember(Namespace = Ns.Tns, Order = 1)] public string Password;
        [MessageBodyMember(Namespace = Ns.Tns, Order = 2)] public string ComputerName;
        [MessageBodyMember(Namespace = Ns.Tns, Order = 3)] public string OrgCode;
        [MessageBodyMember(Namespace = Ns.Tns, Order = 4)] public string BranchCode;
    }

    [MessageContract(WrapperName = "LoginResponse", WrapperNamespace = Ns.Tns, IsWrapped = true)]
    public class LoginResponse
    {
        [MessageBodyMember(Namespace = Ns.Tns, Order = 0)] public ResultType Result;
        [MessageBodyMember(Namespace = Ns.Tns, Order = 1)] public string SessionId;
        [MessageBodyMember(Namespace = Ns.Tns, Order = 2)] public DateTime ExpiresAt;
    }

    [MessageContract(WrapperName = "AddEmployer", WrapperNamespace = Ns.Tns, IsWrapped = true)]
    public class AddEmployerRequest
    {
        [MessageHeader(Namespace = Ns.Tns)] public AuthHeaderType AuthHeader;
        [MessageBodyMember(Namespace = Ns.Tns, Order = 0)] public string EmployerCode;
        [MessageBodyMember(Namespace = Ns.Tns, Order = 1)] public string EmployerName;
        [MessageBodyMember(Namespace = Ns.Tns, Order = 2)] public string PayFrequency;
        [MessageBodyMember(Namespace = Ns.Tns, Order = 3)] public int PayDay;
    }

    [MessageContract(WrapperName = "AddEmployerResponse", WrapperNamespace = Ns.Tns, IsWrapped = true)]
    public class AddEmployerResponse
    {
        [MessageBodyMember(Namespace = Ns.Tns, Order = 0)] public ResultType Result;
    }

    [MessageContract(WrapperName = "AddClient", WrapperNamespace = Ns.Tns, IsWrapped = true)]
    public class AddClientRequest
    {
        [MessageHeader(Namespace = Ns.Tns)] public AuthHeaderType AuthHeader;
        [MessageBodyMember(Namespace = Ns.Tns, Order = 0)] public string ClientNumber;
        [MessageBodyMember(Namespace = Ns.Tns, Order = 1)] public string EmployerCode;
        [MessageBodyMember(Namespace = Ns.Tns, Order = 2)] public string FirstName;
        [MessageBodyMember(Namespace = Ns.Tns, Order = 3)] public string Surname;
        [MessageBodyMember(Namespace = Ns.Tns, Order = 4)] public string IdType;
        [MessageBodyMember(Namespace = Ns.Tns, Order = 5)] public string IdNumber;
        [MessageBodyMember(Namespace = Ns.Tns, Order = 6)] public string DateOfBirth;
        [MessageBodyMember(Namespace = Ns.Tns, Order = 7)] public string Gender;
        [MessageBodyMember(Namespace = Ns.Tns, Order = 8)] public string CellphoneNumber;
    }

    [MessageContract(WrapperName = "AddClientResponse", WrapperNamespace = Ns.Tns, IsWrapped = true)]
    public class AddClientResponse
    {
        [MessageBodyMember(Namespace = Ns.Tns, Order = 0)] public ResultType Result;
        [MessageBodyMember(Namespace = Ns.Tns, Order = 1)] public string AllpsClientNumber;
    }

    [MessageContract(WrapperName = "GetClient", WrapperNamespace = Ns.Tns, IsWrapped = true)]
    public class GetClientRequest
    {
        [MessageHeader(Namespace = Ns.Tns)] public AuthHeaderType AuthHeader;
        [MessageBodyMember(Namespace = Ns.Tns, Order = 0)] public string ClientNumber;
    }

    [MessageContract(WrapperName = "GetClientResponse", WrapperNamespace = Ns.Tns, IsWrapped = true)]
    public class GetClientResponse
    {
        [MessageBodyMember(Namespace = Ns.Tns, Order = 0)] public ResultType Result;
        [MessageBodyMember(Namespace = Ns.Tns, Order = 1)] public ClientType Client;
    }

    [ServiceContract(Namespace = Ns.Tns)]
    [XmlSerializerFormat(SupportFaults = true)]
    public interface IAllps
    {
        [OperationContract(Action = "urn:allps:ws:v1/Login", ReplyAction = "*")]
        [FaultContract(typeof(AllpsFaultType), Action = "urn:allps:ws:v1/Login/Fault/AllpsFault", Name = "AllpsFault", Namespace = Ns.Tns)]
        LoginResponse Login(LoginRequest request);

        [OperationContract(Action = "urn:allps:ws:v1/AddEmployer", ReplyAction = "*")]
        [FaultContract(typeof(AllpsFaultType), Action = "urn:allps:ws:v1/AddEmployer/Fault/AllpsFault", Name = "AllpsFault", Namespace = Ns.Tns)]
        AddEmployerResponse AddEmployer(AddEmployerRequest request);

        [OperationContract(Action = "urn:allps:ws:v1/AddClient", ReplyAction = "*")]
        [FaultContract(typeof(AllpsFaultType), Action = "urn:allps:ws:v1/AddClient/Fault/AllpsFault", Name = "AllpsFault", Namespace = Ns.Tns)]
        AddClientResponse AddClient(AddClientRequest request);

        [OperationContract(Action = "urn:allps:ws:v1/GetClient", ReplyAction = "*")]
        [FaultContract(typeof(AllpsFaultType), Action = "urn:allps:ws:v1/GetClient/Fault/AllpsFault", Name = "AllpsFault", Namespace = Ns.Tns)]
        GetClientResponse GetClient(GetClientRequest request);
    }

    public static class WcfPeer
    {
        static int passed;
        static readonly List<string> failures = new List<string>();
        static readonly Random random = new Random();

        static void Check(string name, Action body)
        {
            try
            {
                body();
                passed++;
                Console.WriteLine("ok   " + name);
            }
            catch (Exception e)
            {
                failures.Add(name);
                Console.WriteLine("FAIL " + name + ": " + e);
            }
        }

        static void Same(object expected, object actual, string what)
        {
            if (!Equals(expected, actual))
                throw new Exception(what + ": expected <" + expected + "> but got <" + actual + ">");
        }

        static void Expect(bool condition, string what)
        {
            if (!condition) throw new Exception("assertion failed: " + what);
        }

        static string SaId(DateTime born, int sequence)
        {
            string body = born.ToString("yyMMdd") + sequence.ToString("D4") + "08";
            int total = 0;
            for (int i = 0; i < body.Length; i++)
            {
                int d = body[body.Length - 1 - i] - '0';
                if (i % 2 == 0) { d *= 2; if (d > 9) d -= 9; }
                total += d;
            }
            return body + ((10 - total % 10) % 10);
        }

        static AuthHeaderType Credentials(string password)
        {
            return new AuthHeaderType { UserName = "demo", Password = password, ComputerName = "MONO-WCF", OrgCode = "DEMO", BranchCode = "BR001" };
        }

        /// SOAP 1.1 (HTTP 500): WCF raises FaultException<AllpsFaultType>.
        static void ExpectFault(string code, Action call)
        {
            try
            {
                call();
            }
            catch (FaultException<AllpsFaultType> f)
            {
                Same(code, f.Detail.Code, "AllpsFault/Code");
                Expect(!string.IsNullOrEmpty(f.Detail.Message), "AllpsFault/Message is empty");
                return;
            }
            throw new Exception("expected a typed AllpsFault " + code);
        }

        /// SOAP 1.2 Sender faults come with HTTP 400 (SOAP 1.2 part 2, 7.5.1.2). WCF reads a
        /// fault only from a 2xx or 500 response (Mono here, and .NET's
        /// HttpResponseMessageHelper.ValidateResponseStatusCode), so it raises a transport
        /// error instead of the typed fault. This pins that behaviour and checks that the
        /// fault and its AllpsFault detail are on the wire all the same.
        static void ExpectHttp400Fault(string code, Action call)
        {
            try
            {
                call();
            }
            catch (Exception e)
            {
                WebException web = null;
                for (Exception x = e; x != null && web == null; x = x.InnerException) web = x as WebException;
                Expect(web != null, "expected the HTTP 400 to surface as a WebException, got " + e.GetType());
                var response = web.Response as HttpWebResponse;
                Expect(response != null, "the WebException carries no response");
                Same(400, (int)response.StatusCode, "HTTP status");
                var doc = new XmlDocument();
                using (var stream = response.GetResponseStream()) doc.Load(stream);
                var ns = new XmlNamespaceManager(doc.NameTable);
                ns.AddNamespace("e", "http://www.w3.org/2003/05/soap-envelope");
                ns.AddNamespace("a", Ns.Tns);
                XmlNode value = doc.SelectSingleNode("//e:Fault/e:Code/e:Value", ns);
                Expect(value != null && value.InnerText.EndsWith(":Sender"), "Fault/Code/Value is Sender");
                Same(code, doc.SelectSingleNode("//e:Fault/e:Detail/a:AllpsFault/a:Code", ns).InnerText, "AllpsFault/Code");
                Console.WriteLine("note WCF raised " + e.GetType().Name + " for the SOAP 1.2 Sender fault (HTTP 400); the body holds AllpsFault " + code);
                return;
            }
            throw new Exception("expected a fault " + code);
        }

        /// The soap:address (SOAP 1.1) or soap12:address (SOAP 1.2) the served WSDL names.
        static string ServedAddress(string url, bool soap12)
        {
            var doc = new XmlDocument();
            using (var web = new WebClient()) doc.LoadXml(web.DownloadString(url + "?wsdl"));
            var ns = new XmlNamespaceManager(doc.NameTable);
            ns.AddNamespace("w", "http://schemas.xmlsoap.org/wsdl/");
            ns.AddNamespace("s", soap12 ? "http://schemas.xmlsoap.org/wsdl/soap12/" : "http://schemas.xmlsoap.org/wsdl/soap/");
            return doc.SelectSingleNode("//w:service/w:port/s:address/@location", ns).Value;
        }

        static void Suite(string url, bool soap12)
        {
            string v = soap12 ? "1.2" : "1.1";
            string p = "wcf SOAP " + v + ": ";
            string address = ServedAddress(url, soap12);
            Binding binding = soap12
                ? (Binding)new CustomBinding(new TextMessageEncodingBindingElement(MessageVersion.Soap12, Encoding.UTF8), new HttpTransportBindingElement())
                : new BasicHttpBinding();
            var factory = new ChannelFactory<IAllps>(binding, new EndpointAddress(address));
            IAllps port = factory.CreateChannel();
            string tag = "W" + (soap12 ? "12" : "11") + random.Next(1000000).ToString("D6");
            DateTime born = soap12 ? new DateTime(1982, 11, 30) : new DateTime(1999, 3, 1);
            string employer = "E" + tag;
            string session = null;

            Check(p + "the served WSDL names this server", () => Same(url, address, "address"));
            Check(p + "Login returns a session", () =>
            {
                LoginResponse r = port.Login(new LoginRequest { UserName = "demo", Password = "demo-password", ComputerName = "MONO-WCF", OrgCode = "DEMO", BranchCode = "BR001" });
                Same(0, r.Result.Code, "Result/Code");
                Expect(Regex.IsMatch(r.SessionId ?? "", @"^\S{16,64}$"), "SessionId " + r.SessionId);
                Expect(r.ExpiresAt.ToUniversalTime() > DateTime.UtcNow, "ExpiresAt " + r.ExpiresAt);
                session = r.SessionId;
            });
            Action<string, Action> expectFault = soap12 ? (Action<string, Action>)ExpectHttp400Fault : ExpectFault;
            Check(p + (soap12 ? "Login with a wrong password: HTTP 400 Sender fault, AllpsFault AUTH_FAILED" : "Login with a wrong password is a typed AllpsFault AUTH_FAILED"), () =>
                expectFault("AUTH_FAILED", () => port.Login(new LoginRequest { UserName = "demo", Password = "nope", ComputerName = "MONO-WCF", OrgCode = "DEMO", BranchCode = "BR001" })));
            Check(p + "AddEmployer with credentials in the AuthHeader", () =>
            {
                var req = new AddEmployerRequest { AuthHeader = Credentials("demo-password"), EmployerCode = employer, EmployerName = "WCF Works", PayFrequency = "WEEKLY", PayDay = 5 };
                Same(0, port.AddEmployer(req).Result.Code, "Result/Code");
                req.PayDay = 4;
                Same(400, port.AddEmployer(req).Result.Code, "conflict");
            });
            string id = SaId(born, 5000 + random.Next(5000));
            Check(p + "AddClient with the SessionId, GetClient returns it", () =>
            {
                var add = new AddClientRequest
                {
                    AuthHeader = new AuthHeaderType { SessionId = session }, ClientNumber = "C" + tag, EmployerCode = employer, FirstName = "Themba",
                    Surname = "Zulu", IdType = "SA_ID", IdNumber = id, DateOfBirth = born.ToString("yyyy-MM-dd"), Gender = "M", CellphoneNumber = "(076) 123-4567",
                };
                AddClientResponse r = port.AddClient(add);
                Same(0, r.Result.Code, "Result/Code " + r.Result.Message);
                Expect(Regex.IsMatch(r.AllpsClientNumber ?? "", @"^AC\d{8}$"), "AllpsClientNumber " + r.AllpsClientNumber);
                GetClientResponse g = port.GetClient(new GetClientRequest { AuthHeader = Credentials("demo-password"), ClientNumber = "C" + tag });
                Same(0, g.Result.Code, "GetClient Result/Code");
                Same(r.AllpsClientNumber, g.Client.AllpsClientNumber, "AllpsClientNumber");
                Same(id, g.Client.IdNumber, "IdNumber");
                Same(born.ToString("yyyy-MM-dd"), g.Client.DateOfBirth, "DateOfBirth");
                Same("0761234567", g.Client.CellphoneNumber, "CellphoneNumber (normalised)");
                Same("Themba", g.Client.FirstName, "FirstName");
            });
            Check(p + "a bad SA ID check digit is refused (106)", () =>
            {
                string bad = id.Substring(0, 12) + ((id[12] - '0' + 1) % 10);
                var add = new AddClientRequest
                {
                    AuthHeader = Credentials("demo-password"), ClientNumber = "B" + tag, EmployerCode = employer, FirstName = "Themba",
                    Surname = "Zulu", IdType = "SA_ID", IdNumber = bad, DateOfBirth = born.ToString("yyyy-MM-dd"), Gender = "M",
                };
                AddClientResponse r = port.AddClient(add);
                Same(106, r.Result.Code, "Result/Code");
                Same("IdNumber", r.Result.Field, "Result/Field");
            });
            Check(p + (soap12 ? "an unknown session: HTTP 400 Sender fault, AllpsFault SESSION_INVALID" : "an unknown session is a typed AllpsFault SESSION_INVALID"), () =>
                expectFault("SESSION_INVALID", () => port.GetClient(new GetClientRequest { AuthHeader = new AuthHeaderType { SessionId = "nope" }, ClientNumber = "C" + tag })));
            ((IClientChannel)port).Close();
            factory.Close();
        }

        public static int Main(string[] args)
        {
            Suite(args[0], false);
            Suite(args[0], true);
            Console.WriteLine("mono wcf: " + passed + " passed, " + failures.Count + " failed");
            return failures.Count == 0 ? 0 : 1;
        }
    }
}
