// Starts GraphiQL on this gateway's /graphql. Served from the binary with the pinned bundles
// beside it (see README.md here); an external script, as the page's Content-Security-Policy
// allows no inline script. Put `{"Authorization": "Bearer <token>"}` in the Headers tab.
(function () {
  var fetcher = GraphiQL.createFetcher({ url: new URL("/graphql", window.location.href).href });
  var root = ReactDOM.createRoot(document.getElementById("graphiql"));
  root.render(
    React.createElement(GraphiQL, { fetcher: fetcher, defaultEditorToolsVisibility: "headers" })
  );
})();
