/*
 * Shared by the inbox and admin pages: building elements (text only, never HTML) and one
 * way to call the desk's JSON API with the session cookie and the CSRF token.
 */
(function () {
  "use strict";

  function el(tag, cls, text) {
    var node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text !== undefined && text !== null) node.textContent = text;
    return node;
  }

  /* A client for /api/...; `options.csrf()` gives the token, `options.onLoggedOut()` runs on a 401. */
  function client(options) {
    return async function api(method, path, body) {
      var headers = { "Accept": "application/json" };
      if (body !== undefined) headers["Content-Type"] = "application/json";
      var token = options.csrf();
      if (method !== "GET" && token) headers["X-CSRF-Token"] = token;
      var response = await fetch(path, {
        method: method, headers: headers, credentials: "same-origin",
        body: body === undefined ? undefined : JSON.stringify(body)
      });
      if (response.status === 401 && path !== "/api/auth/login" && options.onLoggedOut) {
        options.onLoggedOut();
        throw new Error("Je bent uitgelogd. Log opnieuw in.");
      }
      var data = response.status === 204 ? null : await response.json().catch(function () { return null; });
      if (!response.ok) {
        var detail = data && typeof data.detail === "string" ? data.detail : "Er ging iets mis (" + response.status + "). Probeer het opnieuw.";
        var error = new Error(detail);
        error.status = response.status;
        error.problems = data && Array.isArray(data.problems) ? data.problems : [];
        throw error;
      }
      return data;
    };
  }

  window.BakenDesk = { el: el, client: client };
})();
