// Swagger UI for /api/docs, from the app's own copy of swagger-ui-dist.
window.addEventListener("load", function () {
  var el = document.getElementById("swagger-ui");
  window.ui = window.SwaggerUIBundle({ url: el.dataset.openapi, dom_id: "#swagger-ui", deepLinking: true });
});
