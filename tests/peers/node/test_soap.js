// Node `soap` against a running allps-ws: loads the served WSDL and calls Login,
// AddEmployer, AddClient and GetClient through the AllpsSoap11 port (SOAP 1.1) and the
// AllpsSoap12 port (SOAP 1.2, which node-soap only speaks with forceSoap12Headers),
// including business refusals (Result codes) and typed faults.
//
// Run by tests/peers/run.sh, which starts the server and sets ALLPS_URL (the endpoint).
// By hand: ALLPS_URL=http://127.0.0.1:8080/allps node --test tests/peers/node/test_soap.js
'use strict';

const { describe, it, before } = require('node:test');
const assert = require('node:assert/strict');
const soap = require('soap');

const URL = process.env.ALLPS_URL || 'http://127.0.0.1:8080/allps';
const TNS = 'urn:allps:ws:v1';
const CREDENTIALS = {
  UserName: 'demo',
  Password: 'demo-password',
  ComputerName: 'NODE-SOAP',
  OrgCode: 'DEMO',
  BranchCode: 'BR001',
  TerminalType: 'NONE',
};

/** A valid SA ID number: YYMMDD SSSS C A Z, Z the Luhn check digit. */
function saId(yymmdd, sequence, citizenship = 0) {
  const body = `${yymmdd}${String(sequence).padStart(4, '0')}${citizenship}8`;
  let total = 0;
  [...body].reverse().forEach((ch, i) => {
    let d = Number(ch);
    if (i % 2 === 0) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    total += d;
  });
  return body + String((10 - (total % 10)) % 10);
}

const random = (n) => Math.floor(Math.random() * n);

for (const version of ['1.1', '1.2']) {
  const port = version === '1.1' ? 'AllpsSoap11' : 'AllpsSoap12';
  // one birth date per version, so every ID number in this suite is distinct
  const born = version === '1.1' ? { iso: '1979-12-31', yymmdd: '791231' } : { iso: '2001-06-15', yymmdd: '010615' };
  const tag = `N${version.replace('.', '')}${String(random(1e6)).padStart(6, '0')}`;

  describe(`node soap, SOAP ${version} (${port})`, () => {
    let client;
    let sessionId;
    const employer = `E${tag}`;

    /** Calls `op` on this version's port with the given AuthHeader (or none). */
    function call(op, args, authHeader) {
      client.clearSoapHeaders();
      if (authHeader) client.addSoapHeader({ AuthHeader: authHeader }, '', 'tns', TNS);
      const method = client.AllpsService[port][op];
      return new Promise((resolve, reject) => {
        method(args, (err, result, rawResponse) => {
          if (err) reject(err);
          else resolve({ result, rawResponse });
        });
      });
    }

    /** The AllpsFault detail from a rejected call's parsed envelope. */
    function faultDetail(err) {
      const fault = err && err.root && err.root.Envelope && err.root.Envelope.Body && err.root.Envelope.Body.Fault;
      assert.ok(fault, `not a SOAP fault: ${err}`);
      const detail = version === '1.1' ? fault.detail : fault.Detail;
      assert.ok(detail && detail.AllpsFault, `fault without AllpsFault detail: ${JSON.stringify(fault)}`);
      return { fault, detail: detail.AllpsFault };
    }

    function clientArgs(changes = {}) {
      return {
        ClientNumber: `C${tag}`,
        EmployerCode: employer,
        FirstName: 'Sipho',
        Surname: "O'Neill-Dube",
        IdType: 'SA_ID',
        IdNumber: saId(born.yymmdd, 5000 + random(5000)), // sequence >= 5000: male
        DateOfBirth: born.iso,
        Gender: 'M',
        Initials: 'S J',
        CellphoneNumber: '27 72 000 1234',
        EmployeeNumber: 'ND-9',
        Email: 'sipho@example.org',
        ...changes,
      };
    }

    before(async () => {
      client = await soap.createClientAsync(`${URL}?wsdl`, { forceSoap12Headers: version === '1.2' });
    });

    it('reads the served WSDL, whose ports point at this server', () => {
      const ports = client.wsdl.definitions.services.AllpsService.ports;
      assert.deepEqual(Object.keys(ports).sort(), ['AllpsSoap11', 'AllpsSoap12']);
      assert.equal(ports[port].location, URL);
      const described = client.describe().AllpsService[port];
      for (const op of ['Login', 'AddEmployer', 'AddClient', 'GetClient']) assert.ok(described[op], op);
    });

    it('Login returns a session', async () => {
      const { result } = await call('Login', CREDENTIALS);
      assert.equal(Number(result.Result.Code), 0, JSON.stringify(result));
      assert.equal(result.Result.Message, 'OK');
      assert.match(result.SessionId, /^\S{16,64}$/);
      const expires = result.ExpiresAt instanceof Date ? result.ExpiresAt : new Date(result.ExpiresAt);
      assert.ok(expires.getTime() > Date.now(), `ExpiresAt ${result.ExpiresAt}`);
      // the request went out in this version's envelope
      const envNs = version === '1.1' ? 'http://schemas.xmlsoap.org/soap/envelope/' : 'http://www.w3.org/2003/05/soap-envelope';
      assert.ok(client.lastRequest.includes(envNs), client.lastRequest);
      sessionId = result.SessionId;
    });

    it('Login with a wrong password is a typed AUTH_FAILED fault', async () => {
      const err = await call('Login', { ...CREDENTIALS, Password: 'wrong-password' }).then(
        () => assert.fail('the wrong password was accepted'),
        (e) => e,
      );
      const { fault, detail } = faultDetail(err);
      assert.equal(detail.Code, 'AUTH_FAILED');
      assert.ok(detail.Message.length > 0);
      if (version === '1.1') {
        assert.equal(fault.faultcode, 'soap:Client');
        assert.equal(err.response.status, 500);
      } else {
        assert.equal(fault.Code.Value, 'soap:Sender');
        assert.equal(err.response.status, 400);
      }
    });

    it('AddEmployer with credentials in the AuthHeader; repeat and conflict', async () => {
      const args = { EmployerCode: employer, EmployerName: 'Node Logistics', PayFrequency: 'WEEKLY', PayDay: 5 };
      const first = (await call('AddEmployer', args, CREDENTIALS)).result;
      assert.equal(Number(first.Result.Code), 0, JSON.stringify(first));
      const again = (await call('AddEmployer', args, CREDENTIALS)).result;
      assert.equal(Number(again.Result.Code), 0, JSON.stringify(again));
      const clash = (await call('AddEmployer', { ...args, PayDay: 4 }, CREDENTIALS)).result;
      assert.equal(Number(clash.Result.Code), 400, JSON.stringify(clash));
      assert.equal(clash.Result.Field, 'EmployerCode');
    });

    let added;
    it('AddClient with the SessionId from Login, then GetClient returns it', async () => {
      added = clientArgs();
      const r = (await call('AddClient', added, { SessionId: sessionId })).result;
      assert.equal(Number(r.Result.Code), 0, JSON.stringify(r));
      assert.match(r.AllpsClientNumber, /^AC\d{8}$/);
      const again = (await call('AddClient', added, { SessionId: sessionId })).result;
      assert.equal(Number(again.Result.Code), 0);
      assert.equal(again.AllpsClientNumber, r.AllpsClientNumber);

      const got = (await call('GetClient', { ClientNumber: added.ClientNumber }, CREDENTIALS)).result;
      assert.equal(Number(got.Result.Code), 0, JSON.stringify(got));
      const c = got.Client;
      assert.equal(c.AllpsClientNumber, r.AllpsClientNumber);
      for (const k of ['ClientNumber', 'EmployerCode', 'FirstName', 'Surname', 'IdType', 'IdNumber', 'Gender', 'EmployeeNumber', 'Email']) {
        assert.equal(c[k], added[k], k);
      }
      const dob = c.DateOfBirth instanceof Date ? c.DateOfBirth.toISOString().slice(0, 10) : String(c.DateOfBirth).slice(0, 10);
      assert.equal(dob, added.DateOfBirth);
      assert.equal(c.CellphoneNumber, '0720001234'); // "27 72 000 1234", normalised
      assert.equal(c.Initials, 'SJ');
      // empty lists: present but without entries
      assert.ok(!got.Accounts || !got.Accounts.Account, JSON.stringify(got.Accounts));
      assert.ok(!got.Promissories || !got.Promissories.Promissory, JSON.stringify(got.Promissories));
    });

    it('AddClient with a bad SA ID check digit is refused (106) and stores nothing', async () => {
      const good = clientArgs({ ClientNumber: `B${tag}` });
      const bad = { ...good, IdNumber: good.IdNumber.slice(0, 12) + String((Number(good.IdNumber[12]) + 1) % 10) };
      const r = (await call('AddClient', bad, CREDENTIALS)).result;
      assert.equal(Number(r.Result.Code), 106, JSON.stringify(r));
      assert.equal(r.Result.Field, 'IdNumber');
      assert.equal(r.AllpsClientNumber, undefined);
      const got = (await call('GetClient', { ClientNumber: bad.ClientNumber }, { SessionId: sessionId })).result;
      assert.equal(Number(got.Result.Code), 201, JSON.stringify(got));
      assert.equal(got.Client, undefined);
    });

    it('AddClient under an unknown employer is refused (200)', async () => {
      const r = (await call('AddClient', clientArgs({ ClientNumber: `U${tag}`, EmployerCode: 'NOSUCHEMPLOYER' }), CREDENTIALS)).result;
      assert.equal(Number(r.Result.Code), 200, JSON.stringify(r));
      assert.equal(r.Result.Field, 'EmployerCode');
    });

    it('Money: CreatePromissory / GetPromissory keep two decimals; three are refused (121)', async () => {
      const client = clientArgs({ ClientNumber: `D${tag}` });
      const added = (await call('AddClient', client, CREDENTIALS)).result;
      assert.equal(Number(added.Result.Code), 0, JSON.stringify(added));
      const note = {
        ClientNumber: client.ClientNumber, ContractReference: `Z${tag}`, PaymentStream: 'EFT', BankBranchCode: '250655',
        AccountNumber: '62109876542', AccountType: 'CURRENT', InstalmentAmount: '98765.40', NumberOfInstalments: 2,
        Frequency: 'WEEKLY',
      };
      // the server runs on the wall clock: from about six weeks ahead, the first business day
      let day = new Date(Date.now() + 42 * 86400e3);
      let created;
      for (let i = 0; i < 10; i++) {
        created = (await call('CreatePromissory', { ...note, FirstActionDate: day.toISOString().slice(0, 10) }, CREDENTIALS)).result;
        if (![304, 305].includes(Number(created.Result.Code))) break;
        day = new Date(day.getTime() + 86400e3);
      }
      assert.equal(Number(created.Result.Code), 0, JSON.stringify(created));
      const { result: got, rawResponse } = await call('GetPromissory', { PromissoryNumber: created.PromissoryNumber }, { SessionId: sessionId });
      assert.equal(Number(got.Result.Code), 0, JSON.stringify(got));
      // on the wire: exactly two places (node-soap itself turns xs:decimal into a JS number)
      assert.match(rawResponse, /<InstalmentAmount>98765\.40<\/InstalmentAmount>/);
      assert.equal((rawResponse.match(/<Amount>98765\.40<\/Amount>/g) || []).length, 2);
      assert.equal(Number(got.Promissory.InstalmentAmount), 98765.4);
      const tooPrecise = (await call('CreatePromissory', { ...note, ContractReference: `Y${tag}`, InstalmentAmount: '10.555',
        FirstActionDate: day.toISOString().slice(0, 10) }, CREDENTIALS)).result;
      assert.equal(Number(tooPrecise.Result.Code), 121, JSON.stringify(tooPrecise));
      assert.equal(tooPrecise.Result.Field, 'InstalmentAmount');
    });

    it('CreateDebiCheckPromissory: a TT2 mandate awaits authentication; GetPromissory shows it; 352 refused', async () => {
      const client = clientArgs({ ClientNumber: `M${tag}` });
      const added = (await call('AddClient', client, CREDENTIALS)).result;
      assert.equal(Number(added.Result.Code), 0, JSON.stringify(added));
      const mandate = {
        ClientNumber: client.ClientNumber, ContractReference: `DC${tag}`, BankBranchCode: '250655',
        AccountNumber: '62109876542', AccountType: 'CURRENT', InstalmentAmount: '500.00', NumberOfInstalments: 2,
        Frequency: 'MONTHLY', FirstActionDate: new Date(Date.now() + 42 * 86400e3).toISOString().slice(0, 10),
        AuthenticationType: 'TT2', DebitValueType: 'FIXED', MaximumCollectionAmount: '750.00',
        DateAdjustmentAllowed: true, TrackingDays: 10,
      };
      const created = (await call('CreateDebiCheckPromissory', mandate, CREDENTIALS)).result;
      assert.equal(Number(created.Result.Code), 0, JSON.stringify(created));
      assert.equal(created.Status, 'PENDING');
      assert.equal(created.AuthenticationStatus, 'AWAITING_AUTHENTICATION');
      const { result: got, rawResponse } = await call('GetPromissory', { PromissoryNumber: created.PromissoryNumber }, CREDENTIALS);
      assert.equal(Number(got.Result.Code), 0, JSON.stringify(got));
      assert.equal(got.Promissory.PaymentStream, 'DEBICHECK');
      assert.equal(got.Promissory.AuthenticationType, 'TT2');
      assert.equal(got.Promissory.AuthenticationStatus, 'AWAITING_AUTHENTICATION');
      assert.match(rawResponse, /<MaximumCollectionAmount>750\.00<\/MaximumCollectionAmount>/);
      assert.equal((rawResponse.match(/<Disputable>false<\/Disputable>/g) || []).length, 2);
      const tooHigh = (await call('CreateDebiCheckPromissory', { ...mandate, ContractReference: `DX${tag}`,
        MaximumCollectionAmount: '750.01' }, CREDENTIALS)).result;
      assert.equal(Number(tooHigh.Result.Code), 352, JSON.stringify(tooHigh));
      assert.equal(tooHigh.Result.Field, 'MaximumCollectionAmount');
    });

    it('an unknown session, a wrong header password and a missing header are typed faults', async () => {
      const cases = [
        [{ SessionId: 'no-such-session' }, 'SESSION_INVALID'],
        [{ ...CREDENTIALS, Password: 'wrong' }, 'AUTH_FAILED'],
        [null, 'AUTH_REQUIRED'],
      ];
      for (const [header, code] of cases) {
        const err = await call('GetClient', { ClientNumber: added.ClientNumber }, header).then(
          () => assert.fail(`expected ${code}`),
          (e) => e,
        );
        assert.equal(faultDetail(err).detail.Code, code);
      }
    });
  });
}
