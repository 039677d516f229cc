-- wrk: durable AddClient, a new client in every request, credentials in every request.
--
-- ClientNumber and the passport number are unique per request: "B<tag>T<thread>N<n>"
-- and "P<tag>T<thread>N<n>", where <tag> comes from the command line
-- (`wrk ... -s add_client.lua URL -- <tag>`) so repeated runs against the same database
-- never collide. IdType PASSPORT because one ID number per client per branch is
-- enforced (a repeated number would be refused with IdNumberInUse).
local dir = os.getenv("BENCH_DIR") or "bench"
dofile(dir .. "/lua/report.lua")

wrk.method = "POST"
wrk.headers["Content-Type"] = "text/xml; charset=utf-8"
wrk.headers["SOAPAction"] = '"AddClient"'

local head = [[<?xml version="1.0" encoding="utf-8"?>
<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/">
  <soap:Header>
    <AuthHeader xmlns="urn:allps:ws:v1"><UserName>demo</UserName><Password>demo-password</Password><ComputerName>LENDER-PC01</ComputerName><OrgCode>DEMO</OrgCode><BranchCode>BR001</BranchCode><TerminalType>NONE</TerminalType></AuthHeader>
  </soap:Header>
  <soap:Body>
    <AddClient xmlns="urn:allps:ws:v1"><ClientNumber>]]
local middle = [[</ClientNumber><EmployerCode>EMP001</EmployerCode><FirstName>Sipho</FirstName><Surname>Ndlovu</Surname><IdType>PASSPORT</IdType><IdNumber>]]
local tail = [[</IdNumber><DateOfBirth>1988-06-15</DateOfBirth><Gender>M</Gender><Initials>S</Initials><CellphoneNumber>+27821234567</CellphoneNumber><EmployeeNumber>E77</EmployeeNumber></AddClient>
  </soap:Body>
</soap:Envelope>
]]

local tag = "R"
local n = 0

function init(args)
  tag = args[1] or "R"
end

function request()
  n = n + 1
  local unique = tag .. "T" .. thread_id .. "N" .. n
  return wrk.format(nil, nil, nil, head .. "B" .. unique .. middle .. "P" .. unique .. tail)
end
