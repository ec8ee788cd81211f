// The search page: Pagefind's UI over one index per shard (a run of years), merged into one search.
(function () {
  "use strict";
  var box = document.getElementById("search");
  var status = document.getElementById("search-status");
  if (!box || !status) return;
  if (location.protocol === "file:") {
    status.textContent = "Search needs a web server: opened as a file, the browser may not load the " +
      "search index. Serve the site (python3 -m http.server --directory _site) and open it over http.";
    return;
  }
  var bundles = JSON.parse(box.dataset.bundles);
  if (!bundles.length) {
    status.textContent = "There are no articles to search yet.";
    return;
  }
  var unavailable = "The search index could not be loaded; rebuild the site with search enabled.";
  if (typeof PagefindUI === "undefined") {
    status.textContent = unavailable;
    return;
  }
  // Absolute paths from the page's own location, so search works at a domain root and under a sub-path.
  var root = new URL(box.dataset.root, location.href).pathname;
  var paths = bundles.map(function (bundle) { return root + bundle; });
  status.textContent = "Loading the search index…";
  // Every shard is merged before the search box appears. Pagefind UI would take queries while it
  // merges them, and queries that wait for the index resume in no set order, so the results shown
  // could be an earlier query's ("Nothing matches" for the last one typed, seen with 104 shards).
  // The UI imports the same module (same URL), so it finds the shards merged.
  // Every shard's filters are loaded before it too: Pagefind UI draws the filter panel from the
  // filters loaded when a search returns, and on a slow machine a first query could come back
  // before they were, leaving blocks out of the panel until the next keystroke.
  import(paths[0] + "pagefind.js").then(function (pagefind) {
    return paths.slice(1).reduce(function (merged, path) {
      return merged.then(function () { return pagefind.mergeIndex(path, { baseUrl: root }); });
    }, pagefind.options({ baseUrl: root })).then(function () {
      return pagefind.filters().catch(function () {}); // without filters, search still works
    });
  }).then(start, function () { status.textContent = unavailable; });

  function start() {
    var ui = new PagefindUI({
      element: "#search-ui",
      bundlePath: paths[0],
      baseUrl: root,
      showSubResults: false,
      showImages: false,
      resetStyles: false,
      autofocus: true,
      debounceTimeoutMs: 100, // Pagefind's default 300 ms alone would be the whole latency budget
      translations: {
        zero_results: "Nothing matches [SEARCH_TERM]. Try fewer or other words, another spelling of " +
          "a name, or remove a filter.",
      },
    });
    status.hidden = true;
    // The help says what to try; once a search runs, the results (or Pagefind's "nothing
    // matches", which says what to try next) take its place.
    var help = document.getElementById("search-help");
    document.getElementById("search-ui").addEventListener("input", function (event) {
      if (help && event.target.matches("input[type=text], input[type=search]")) {
        help.hidden = event.target.value.trim() !== "";
      }
    });
    var query = new URLSearchParams(location.search).get("q");
    if (query && help) help.hidden = true;
    if (query) {
      ui.triggerSearch(query);
    } else {
      // Pagefind UI reads the (preloaded) filters when the box first gets focus, and autofocus
      // happens before it listens: give it that focus now, so the first query has them.
      var input = document.querySelector("#search-ui input");
      if (input) input.dispatchEvent(new FocusEvent("focus"));
    }
  }
})();
