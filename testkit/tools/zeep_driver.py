#!/usr/bin/env python3
"""Calls every SOAP operation the simulator serves through zeep, driven by the real WSO2 WSDLs.

zeep builds each request from the WSDL (so element order and namespaces are WSO2's) and parses each
answer against it; an answer zeep cannot parse, or an unexpected fault, fails the run.

Usage: zeep_driver.py CONTRACTS_DIR IS_URL APIM_URL CA_PEM_OR_- USER PASSWORD
Prints one JSON line: {"ops_called": N, "ops": [...], "faults_checked": M, "failures": [...]}
Exit status 0 when every call behaved, 1 otherwise.
"""
import json
import os
import sys

import requests
from requests.auth import HTTPBasicAuth
from zeep import Client, Settings
from zeep.exceptions import Fault
from zeep.transports import Transport

contracts, is_url, apim_url, ca, user, password = sys.argv[1:7]
soap_dir = os.path.join(contracts, "soap")
settings = Settings(strict=True, forbid_dtd=True, forbid_entities=True, forbid_external=True)

called = []
failures = []
faults_checked = 0


def session(basic=True):
    s = requests.Session()
    # Environment CA bundles (REQUESTS_CA_BUNDLE) would override session.verify.
    s.trust_env = False
    s.verify = ca if ca != "-" else True
    if basic:
        s.auth = HTTPBasicAuth(user, password)
    return s


def service(name, base, basic=True):
    client = Client(os.path.join(soap_dir, name + ".wsdl"), settings=settings,
                    transport=Transport(session=session(basic)))
    binding = None
    for qname in client.wsdl.bindings:
        if qname.endswith(name + "Soap11Binding"):
            binding = qname
    svc = client.create_service(binding, f"{base}/services/{name}.{name}HttpsSoap11Endpoint/")
    return client, svc


def call(svc_name, op, fn, check=None):
    try:
        result = fn()
        if check is not None and not check(result):
            failures.append(f"{svc_name}.{op}: unexpected result {result!r}"[:400])
            return None
        called.append(f"{svc_name}.{op}")
        return result
    except Exception as e:  # noqa: BLE001 - any failure is reported
        failures.append(f"{svc_name}.{op}: {type(e).__name__}: {e}"[:400])
        return None


def expect_fault(label, fn, text):
    global faults_checked
    try:
        fn()
        failures.append(f"{label}: expected a fault containing {text!r}")
    except Fault as f:
        if text not in (f.message or ""):
            failures.append(f"{label}: fault {f.message!r} lacks {text!r}")
        else:
            faults_checked += 1
    except Exception as e:  # noqa: BLE001
        failures.append(f"{label}: {type(e).__name__}: {e}"[:400])


# --- AuthenticationAdmin (no Basic auth: login creates a session)
_, auth = service("AuthenticationAdmin", is_url, basic=False)
call("AuthenticationAdmin", "login", lambda: auth.login(username=user, password=password, remoteAddress="127.0.0.1"),
     lambda r: r is True)
call("AuthenticationAdmin", "logout", lambda: auth.logout())

# --- RemoteUserStoreManagerService
_, um = service("RemoteUserStoreManagerService", is_url)
S = "RemoteUserStoreManagerService"
call(S, "addRole", lambda: um.addRole(roleName="zeep_role", userList=[], permissions=[]))
call(S, "addUser", lambda: um.addUser(userName="zeep_user", credential="zeep-pass", roleList=["zeep_role"],
                                      claims=[], profileName="default", requirePasswordChange=False))
expect_fault("addUser duplicate", lambda: um.addUser(userName="zeep_user", credential="zeep-pass"),
             "UserAlreadyExisting")
call(S, "isExistingUser", lambda: um.isExistingUser(userName="zeep_user"), lambda r: r is True)
call(S, "isExistingRole", lambda: um.isExistingRole(roleName="zeep_role"), lambda r: r is True)
call(S, "getRoleNames", lambda: um.getRoleNames(), lambda r: "zeep_role" in r and "admin" in r)
call(S, "getRoleListOfUser", lambda: um.getRoleListOfUser(userName="zeep_user"), lambda r: "zeep_role" in r)
call(S, "getUserListOfRole", lambda: um.getUserListOfRole(roleName="zeep_role"), lambda r: list(r or []) == ["zeep_user"])
call(S, "authenticate", lambda: um.authenticate(userName="zeep_user", credential="zeep-pass"), lambda r: r is True)
call(S, "updateRoleListOfUser", lambda: um.updateRoleListOfUser(userName="zeep_user", deletedRoles=["zeep_role"],
                                                               newRoles=[]))
call(S, "deleteUser", lambda: um.deleteUser(userName="zeep_user"))
call(S, "deleteRole", lambda: um.deleteRole(roleName="zeep_role"))

# --- OAuthAdminService
oc, oauth = service("OAuthAdminService", is_url)
S = "OAuthAdminService"
Dto = oc.get_type("{http://dto.oauth.identity.carbon.wso2.org/xsd}OAuthConsumerAppDTO")
app = Dto(OAuthVersion="OAuth-2.0", applicationName="zeep-sso & <co>", callbackUrl="https://apim:9443/commonauth",
          grantTypes="authorization_code refresh_token", oauthConsumerKey="zeep-key", oauthConsumerSecret="zeep-secret")
call(S, "registerOAuthApplicationData", lambda: oauth.registerOAuthApplicationData(application=app))
expect_fault("register duplicate", lambda: oauth.registerOAuthApplicationData(application=app), "same name")
call(S, "registerAndRetrieveOAuthApplicationData",
     lambda: oauth.registerAndRetrieveOAuthApplicationData(
         application=Dto(OAuthVersion="OAuth-2.0", applicationName="zeep-two", grantTypes="password")),
     lambda r: r is not None and len(r.oauthConsumerKey or "") > 10)
got = call(S, "getOAuthApplicationDataByAppName",
           lambda: oauth.getOAuthApplicationDataByAppName(appName="zeep-sso & <co>"),
           lambda r: r.oauthConsumerKey == "zeep-key" and r.applicationName == "zeep-sso & <co>")
call(S, "getOAuthApplicationData", lambda: oauth.getOAuthApplicationData(consumerKey="zeep-key"),
     lambda r: r.oauthConsumerSecret == "zeep-secret" and r.state == "ACTIVE")
if got is not None:
    got.callbackUrl = "https://apim:9443/t/x/commonauth"
    call(S, "updateConsumerApplication", lambda: oauth.updateConsumerApplication(consumerAppDTO=got))
    call(S, "getOAuthApplicationData (after update)", lambda: oauth.getOAuthApplicationData(consumerKey="zeep-key"),
         lambda r: r.callbackUrl == "https://apim:9443/t/x/commonauth")
    called.pop()
call(S, "getAllOAuthApplicationData", lambda: oauth.getAllOAuthApplicationData(), lambda r: len(r) == 2)
call(S, "removeOAuthApplicationData", lambda: oauth.removeOAuthApplicationData(consumerKey="zeep-key"))
expect_fault("get removed", lambda: oauth.getOAuthApplicationData(consumerKey="zeep-key"),
             "Error while retrieving the app information")

# --- IdentityProviderMgtService (on APIM, where Internal/subscriber exists)
ic, idp = service("IdentityProviderMgtService", apim_url)
S = "IdentityProviderMgtService"
M = "{http://model.common.application.identity.carbon.wso2.org/xsd}"
IdP = ic.get_type(M + "IdentityProvider")
FAC = ic.get_type(M + "FederatedAuthenticatorConfig")
Prop = ic.get_type(M + "Property")
Roles = ic.get_type(M + "PermissionsAndRoleConfig")
RoleMapping = ic.get_type(M + "RoleMapping")
LocalRole = ic.get_type(M + "LocalRole")
fac = FAC(displayName="openidconnect", enabled=True, name="OpenIDConnectAuthenticator",
          properties=[Prop(name="ClientId", value="zeep-key"), Prop(name="ClientSecret", value="s3cr3t", confidential=True),
                      Prop(name="IsBasicAuthEnabled", value="true")])
roles = Roles(idpRoles=["user_role", "ghost"], roleMappings=[
    RoleMapping(localRole=LocalRole(localRoleName="subscriber", userStoreId="Internal"), remoteRole="user_role"),
    RoleMapping(localRole=LocalRole(localRoleName="ghost", userStoreId="Internal"), remoteRole="ghost")])
new_idp = IdP(defaultAuthenticatorConfig=fac, displayName="zeep-idp", enable=True, federatedAuthenticatorConfigs=[fac],
              identityProviderName="zeep-idp", permissionAndRoleConfig=roles)
call(S, "addIdP", lambda: idp.addIdP(identityProvider=new_idp))
expect_fault("addIdP duplicate", lambda: idp.addIdP(identityProvider=new_idp), "already been registered")
read = call(S, "getIdPByName", lambda: idp.getIdPByName(idPName="zeep-idp"),
            lambda r: r.identityProviderName == "zeep-idp" and list(r.permissionAndRoleConfig.idpRoles) == ["user_role"])
if read is not None:
    read.identityProviderDescription = "updated by zeep"
    call(S, "updateIdP", lambda: idp.updateIdP(oldIdPName="zeep-idp", identityProvider=read))
call(S, "getAllIdPs", lambda: idp.getAllIdPs(), lambda r: len(r) == 1 and r[0].identityProviderDescription == "updated by zeep")

# --- IdentityApplicationManagementService (on APIM, federated to zeep-idp)
ac, apps = service("IdentityApplicationManagementService", apim_url)
S = "IdentityApplicationManagementService"
SP = ac.get_type(M + "ServiceProvider")
call(S, "createApplication", lambda: apps.createApplication(serviceProvider=SP(applicationName="zeep_portal",
                                                                                  description="made by zeep")))
expect_fault("createApplication duplicate",
             lambda: apps.createApplication(serviceProvider=SP(applicationName="zeep_portal")), "already exists")
sp = call(S, "getApplication", lambda: apps.getApplication(applicationName="zeep_portal"),
          lambda r: r.applicationID > 0 and r.description == "made by zeep")
if sp is not None:
    Step = ac.get_type(M + "AuthenticationStep")
    Local = ac.get_type(M + "LocalAndOutboundAuthenticationConfig")
    FedIdP = ac.get_type(M + "IdentityProvider")
    sp.localAndOutBoundAuthenticationConfig = Local(
        authenticationSteps=[Step(federatedIdentityProviders=[FedIdP(identityProviderName="zeep-idp")], stepOrder=1)],
        authenticationType="federated")
    call(S, "updateApplication", lambda: apps.updateApplication(serviceProvider=sp))
    expect_fault("deleteIdP referenced", lambda: idp.deleteIdP(idPName="zeep-idp"), "referred by Service Providers")
call(S, "getAllApplicationBasicInfo", lambda: apps.getAllApplicationBasicInfo(),
     lambda r: [a.applicationName for a in r] == ["zeep_portal"])
call(S, "deleteApplication", lambda: apps.deleteApplication(applicationName="zeep_portal"))
expect_fault("getApplication deleted", lambda: apps.getApplication(applicationName="zeep_portal"), "User not authorized")
call("IdentityProviderMgtService", "deleteIdP", lambda: idp.deleteIdP(idPName="zeep-idp"))

print(json.dumps({"ops_called": len(set(called)), "ops": sorted(set(called)), "faults_checked": faults_checked,
                  "failures": failures}))
sys.exit(1 if failures else 0)
