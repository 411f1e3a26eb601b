/* Renders the portal's OpenAPI 3 / Swagger 2 documents as a readable reference: operations, parameters, request and
 * response schemas. Specs are fetched from the portal itself (same origin); nothing comes from a CDN. */
(function () {
  "use strict";
  var METHODS = ["get", "post", "put", "patch", "delete", "head", "options"];

  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (key) {
      if (key === "text") node.textContent = attrs[key];
      else node.setAttribute(key, attrs[key]);
    });
    (children || []).forEach(function (child) {
      if (child) node.appendChild(child);
    });
    return node;
  }

  function resolveRef(spec, schema) {
    var seen = 0;
    while (schema && schema.$ref && seen < 20) {
      var path = schema.$ref.replace(/^#\//, "").split("/");
      schema = path.reduce(function (obj, key) {
        return obj ? obj[key.replace(/~1/g, "/").replace(/~0/g, "~")] : undefined;
      }, spec);
      seen += 1;
    }
    return schema || {};
  }

  function typeLabel(spec, schema) {
    var resolved = resolveRef(spec, schema);
    if (schema && schema.$ref) return schema.$ref.split("/").pop();
    if (resolved.type === "array") return "array of " + typeLabel(spec, resolved.items || {});
    if (resolved.enum) return (resolved.type || "string") + " (" + resolved.enum.join(" | ") + ")";
    if (resolved.oneOf || resolved.anyOf) return "one of " + (resolved.oneOf || resolved.anyOf).map(function (s) { return typeLabel(spec, s); }).join(" | ");
    return resolved.type || "object";
  }

  function schemaTable(spec, schema) {
    var resolved = resolveRef(spec, schema);
    var props = resolved.properties || {};
    var required = resolved.required || [];
    var names = Object.keys(props);
    if (names.length === 0) return el("p", { class: "muted small", text: "Type: " + typeLabel(spec, schema) });
    var rows = names.map(function (name) {
      var prop = resolveRef(spec, props[name]);
      return el("tr", {}, [
        el("td", {}, [el("code", { class: "mono", text: name }), required.indexOf(name) >= 0 ? el("span", { class: "required", text: " required" }) : null]),
        el("td", { text: typeLabel(spec, props[name]) }),
        el("td", { text: prop.description || "" }),
      ]);
    });
    return el("table", { class: "schema-table" }, [
      el("thead", {}, [el("tr", {}, [el("th", { scope: "col", text: "Field" }), el("th", { scope: "col", text: "Type" }), el("th", { scope: "col", text: "Description" })])]),
      el("tbody", {}, rows),
    ]);
  }

  function bodySchema(content) {
    if (!content) return null;
    var media = content["application/json"] || content[Object.keys(content)[0]];
    return media && media.schema;
  }

  function renderOperation(spec, path, method, op, index, specId) {
    var bodyId = specId + "-op-" + index;
    var parts = [];
    if (op.description) parts.push(el("p", { text: op.description }));
    var params = (op.parameters || []).map(function (p) { return resolveRef(spec, p); });
    if (params.length) {
      parts.push(el("h4", { class: "subheading", text: "Parameters" }));
      parts.push(el("table", { class: "schema-table" }, [
        el("thead", {}, [el("tr", {}, [el("th", { scope: "col", text: "Name" }), el("th", { scope: "col", text: "In" }), el("th", { scope: "col", text: "Type" }), el("th", { scope: "col", text: "Description" })])]),
        el("tbody", {}, params.map(function (p) {
          return el("tr", {}, [
            el("td", {}, [el("code", { class: "mono", text: p.name }), p.required ? el("span", { class: "required", text: " required" }) : null]),
            el("td", { text: p.in }),
            el("td", { text: typeLabel(spec, p.schema || p) }),
            el("td", { text: p.description || "" }),
          ]);
        })),
      ]));
    }
    var request = op.requestBody ? bodySchema(resolveRef(spec, op.requestBody).content) : null;
    if (request) {
      parts.push(el("h4", { class: "subheading", text: "Request body" }));
      parts.push(schemaTable(spec, request));
    }
    Object.keys(op.responses || {}).forEach(function (status) {
      var response = resolveRef(spec, op.responses[status]);
      parts.push(el("h4", { class: "subheading", text: "Response " + status + (response.description ? " · " + response.description : "") }));
      var schema = bodySchema(response.content) || response.schema;
      if (schema) parts.push(schemaTable(spec, schema));
    });
    return el("details", { class: "operation" }, [
      el("summary", { "aria-controls": bodyId }, [
        el("span", { class: "method method-" + method, text: method.toUpperCase() }),
        el("span", { class: "operation-path", text: path }),
        el("span", { class: "operation-summary", text: op.summary || op.operationId || "" }),
      ]),
      el("div", { class: "operation-body", id: bodyId }, parts),
    ]);
  }

  function render(section, spec) {
    var body = section.querySelector("[data-openapi-body]");
    body.textContent = "";
    if (spec.info && spec.info.description) body.appendChild(el("p", { text: spec.info.description }));
    var index = 0;
    Object.keys(spec.paths || {}).forEach(function (path) {
      METHODS.forEach(function (method) {
        var op = spec.paths[path][method];
        if (!op) return;
        body.appendChild(renderOperation(spec, path, method, op, index, section.id));
        index += 1;
      });
    });
    if (index === 0) body.appendChild(el("p", { class: "muted", text: "This API description lists no operations." }));
  }

  document.querySelectorAll("[data-openapi-url]").forEach(function (section) {
    fetch(section.getAttribute("data-openapi-url"), { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) {
        if (!response.ok) throw new Error("HTTP " + response.status);
        return response.json();
      })
      .then(function (spec) {
        render(section, spec);
      })
      .catch(function (error) {
        var body = section.querySelector("[data-openapi-body]");
        body.textContent = "";
        body.appendChild(el("p", { class: "notice", role: "status", text: "The API description could not be loaded (" + error.message + ")." }));
      });
  });
})();
