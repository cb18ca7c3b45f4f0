// A certified OpenID provider (panva/oidc-provider) issuing JWT access tokens
// with the client credentials grant, for the gateway's interop tests.
// Usage: node oidc-provider.mjs PORT   (prints "READY <issuer>" when listening)
import Provider, { errors } from 'oidc-provider';
import * as jose from 'jose';

const port = Number(process.argv[2]);
const issuer = `http://127.0.0.1:${port}`;
const api = 'https://api.jwtapi.local';

async function signingKey(alg, kid) {
  const { privateKey } = await jose.generateKeyPair(alg, { extractable: true });
  return { ...(await jose.exportJWK(privateKey)), kid, alg, use: 'sig' };
}

const provider = new Provider(issuer, {
  clients: [
    { client_id: 'rs256-client', client_secret: 'rs256-secret', grant_types: ['client_credentials'], redirect_uris: [], response_types: [] },
    { client_id: 'es256-client', client_secret: 'es256-secret', grant_types: ['client_credentials'], redirect_uris: [], response_types: [] },
  ],
  jwks: { keys: [await signingKey('RS256', 'rsa-key'), await signingKey('ES256', 'ec-key')] },
  features: {
    devInteractions: { enabled: false },
    clientCredentials: { enabled: true },
    resourceIndicators: {
      enabled: true,
      defaultResource: () => api,
      useGrantedResource: () => true,
      getResourceServerInfo: (ctx, resource, client) => {
        if (resource !== api && resource !== 'https://other.api') {
          throw new errors.InvalidTarget();
        }
        return {
          scope: 'read:user write:user',
          audience: resource,
          accessTokenTTL: 600,
          accessTokenFormat: 'jwt',
          jwt: { sign: { alg: client.clientId === 'es256-client' ? 'ES256' : 'RS256' } },
        };
      },
    },
  },
});

const server = provider.listen(port, '127.0.0.1', () => console.log(`READY ${issuer}`));
// Stop with the test: when stdin closes, or on a signal.
process.stdin.on('end', () => server.close(() => process.exit(0)));
process.stdin.resume();
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => process.exit(0));
