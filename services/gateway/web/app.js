// Placeholder front end: lists the public host catalogue through the gateway.
"use strict";

async function showCatalogue() {
  const status = document.getElementById("catalogue-status");
  const list = document.getElementById("catalogue-hosts");
  try {
    const response = await fetch("/api/catalogue/hosts", { headers: { Accept: "application/json" } });
    if (!response.ok) {
      status.textContent = `The catalogue is not available yet (HTTP ${response.status}).`;
      return;
    }
    const body = await response.json();
    const hosts = Array.isArray(body) ? body : body.items || [];
    status.textContent = hosts.length ? `${hosts.length} host(s) on this page.` : "No hosts published yet.";
    for (const host of hosts) {
      const item = document.createElement("li");
      const organisation = host.organisation || {};
      // textContent, never innerHTML: catalogue entries are user input.
      item.textContent = [organisation.name, organisation.city, organisation.country].filter(Boolean).join(", ");
      list.appendChild(item);
    }
  } catch (error) {
    status.textContent = "The catalogue could not be reached.";
  }
}

document.addEventListener("DOMContentLoaded", showCatalogue);
