// The comparison peer for bench/scim: a minimal SCIM 2.0 server built on
// the scimmy library, keeping users in memory, on Node's http module.
// Usage: node server.js PORT PRELOAD TOKEN [MODE]  (PRELOAD users bench-0..N-1)
// MODE "filter" (default): the egress handler scimmy's design suggests --
// scimmy hands every read a Filter (for GET /Users/{id} it builds
// `id eq "{id}"` itself), and the handler returns filter.match(users).
// MODE "map": GET by id short-cuts to a Map lookup (a tuned server).
"use strict";
const http = require("http");
const crypto = require("crypto");
const SCIMMY = require("scimmy");

const [port, preload, token] = [Number(process.argv[2]), Number(process.argv[3] || 0), process.argv[4] || ""];
const mode = process.argv[5] || "filter";
const users = new Map();

function store(data, id) {
    const now = new Date();
    const user = {...data, id: id || crypto.randomUUID(), meta: {created: now, lastModified: now}};
    users.set(user.id, user);
    return user;
}

SCIMMY.Resources.declare(SCIMMY.Resources.User)
    .ingress((resource, data) => {
        if (resource.id && !users.has(resource.id)) throw new SCIMMY.Types.Error(404, null, "not found");
        for (const u of users.values())
            if (u.id !== resource.id && u.userName.toLowerCase() === data.userName.toLowerCase())
                throw new SCIMMY.Types.Error(409, "uniqueness", "userName taken");
        return store(data, resource.id);
    })
    .egress((resource) => {
        if (resource.id && mode === "map") {
            const u = users.get(resource.id);
            if (!u) throw new SCIMMY.Types.Error(404, null, "not found");
            return u;
        }
        const all = [...users.values()];
        const found = resource.filter ? resource.filter.match(all) : all;
        if (resource.id && found.length === 0) throw new SCIMMY.Types.Error(404, null, "not found");
        return found;
    })
    .degress((resource) => { users.delete(resource.id); });

for (let i = 0; i < preload; i++)
    store({schemas: ["urn:ietf:params:scim:schemas:core:2.0:User"], userName: `bench-${i}`, active: true,
           name: {givenName: "Bench", familyName: `User ${i}`}, emails: [{value: `bench-${i}@example.com`, primary: true}]});

function send(res, status, body) {
    res.writeHead(status, {"Content-Type": "application/scim+json"});
    res.end(body === undefined ? undefined : JSON.stringify(body));
}

http.createServer((req, res) => {
    if (req.headers.authorization !== `Bearer ${token}`) return send(res, 401, new SCIMMY.Messages.Error({status: 401}));
    const url = new URL(req.url, "http://localhost");
    const m = url.pathname.match(/^\/scim\/v2\/Users(?:\/([^/]+))?$/);
    if (!m) return send(res, 404, new SCIMMY.Messages.Error({status: 404}));
    const chunks = [];
    req.on("data", (c) => chunks.push(c));
    req.on("end", async () => {
        try {
            if (req.method === "GET" && m[1]) return send(res, 200, await new SCIMMY.Resources.User(m[1]).read());
            if (req.method === "GET") {
                const q = Object.fromEntries(url.searchParams);
                for (const k of ["startIndex", "count"]) if (q[k] !== undefined) q[k] = Number(q[k]);
                return send(res, 200, await new SCIMMY.Resources.User(q).read());
            }
            if (req.method === "POST" && !m[1])
                return send(res, 201, await new SCIMMY.Resources.User().write(JSON.parse(Buffer.concat(chunks))));
            return send(res, 405, new SCIMMY.Messages.Error({status: 405}));
        } catch (ex) {
            const status = ex instanceof SCIMMY.Types.Error ? ex.status : 400;
            send(res, status, new SCIMMY.Messages.Error(ex instanceof SCIMMY.Types.Error ? ex : {status: 400, detail: String(ex)}));
        }
    });
}).listen(port, "127.0.0.1");
