// Progressive enhancement only: every page works without this script.
"use strict";

// After a refused form, move the focus to the summary of what to fix, so it is read out first.
function focusTheErrorSummary() {
  const summary = document.querySelector("[data-focus-on-load]");
  if (summary) summary.focus();
}

// An application's proposals refresh themselves: fetch the fragment now and then, swap it in when it
// changed (the region is aria-live, so a screen reader announces new proposals).
function refreshRankedHosts() {
  for (const region of document.querySelectorAll("[data-refresh-url]")) {
    const url = region.dataset.refreshUrl;
    const seconds = Math.max(1, Number(region.dataset.refreshSeconds) || 5);
    const version = (root) => root.querySelector("[data-version]")?.dataset.version;
    const tick = async () => {
      try {
        const response = await fetch(url, { headers: { Accept: "text/html" }, credentials: "same-origin" });
        if (response.ok) {
          // The fragment is rendered by the server with every value escaped.
          const fresh = document.createElement("template");
          fresh.innerHTML = await response.text();
          if (version(fresh.content) !== version(region)) {
            region.replaceChildren(fresh.content);
          }
        }
      } catch (error) {
        // Offline for a moment: try again at the next tick.
      }
      window.setTimeout(tick, seconds * 1000);
    };
    window.setTimeout(tick, seconds * 1000);
  }
}

document.addEventListener("DOMContentLoaded", () => {
  focusTheErrorSummary();
  refreshRankedHosts();
});
