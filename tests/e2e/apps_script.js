// Runs one function of an Apps Script file (a Workspace add-on's Code.gs) under Node, with
// the few Apps Script services such an add-on uses: PropertiesService (from the environment),
// ScriptApp.getIdentityToken() (AURINKO_TEST_ID_TOKEN), UrlFetchApp.fetch (a real, synchronous
// HTTP request, as Apps Script's is), and CardService builders that record what was built.
// Prints the function's result (the card) as JSON. Used by tests/e2e/test_workspace_addon_e2e.py.
"use strict";
const fs = require("fs");
const vm = require("vm");
const { execFileSync } = require("child_process");

const [file, fn] = process.argv.slice(2);

// A real HTTP request, made synchronous by running it in a child Node process.
const FETCH = `
let input = ""; process.stdin.on("data", (d) => (input += d)).on("end", async () => {
  const r = JSON.parse(input);
  const res = await fetch(r.url, { method: r.method, headers: r.headers, redirect: "manual" });
  process.stdout.write(JSON.stringify({ status: res.status, text: await res.text() }));
});`;

const UrlFetchApp = {
  fetch(url, options = {}) {
    const request = { url, method: (options.method || "get").toUpperCase(), headers: options.headers || {} };
    const out = JSON.parse(execFileSync(process.execPath, ["-e", FETCH], { input: JSON.stringify(request) }));
    if (out.status >= 400 && !options.muteHttpExceptions) throw new Error("Request failed: " + out.status);
    return { getResponseCode: () => out.status, getContentText: () => out.text };
  },
};

const PropertiesService = {
  getScriptProperties: () => ({ getProperty: (name) => process.env["SCRIPT_" + name] || null }),
};
const ScriptApp = { getIdentityToken: () => process.env.AURINKO_TEST_ID_TOKEN };

// CardService: newX() gives a node { kind: X }; setY(v) records y; addZ(child) appends; a
// builder's build() gives the node itself.
function node(kind) {
  const target = { kind, children: [] };
  const proxy = new Proxy(target, {
    get(t, name) {
      if (typeof name !== "string" || name in t) return t[name];
      if (name === "build") return () => t;
      if (name.startsWith("set")) {
        return (value) => { t[name[3].toLowerCase() + name.slice(4)] = value; return proxy; };
      }
      if (name.startsWith("add")) return (child) => { t.children.push(child); return proxy; };
      return undefined;
    },
  });
  return proxy;
}
const CardService = new Proxy({
  OpenAs: { OVERLAY: "OVERLAY", FULL_SIZE: "FULL_SIZE" },
  OnClose: { RELOAD_ADD_ON: "RELOAD_ADD_ON", NOTHING: "NOTHING" },
}, {
  get(t, name) {
    if (typeof name !== "string" || name in t) return t[name];
    return name.startsWith("new") ? () => node(name.slice(3)) : undefined;
  },
});

const context = vm.createContext({ UrlFetchApp, PropertiesService, ScriptApp, CardService, console, JSON, String, encodeURIComponent });
vm.runInContext(fs.readFileSync(file, "utf8"), context, { filename: file });
const result = vm.runInContext(fn + "({})", context);
process.stdout.write(JSON.stringify(result));
