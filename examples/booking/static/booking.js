// The booking page's half of the embedding: open the consent page (iframe or popup), accept
// a message only from the issuer's exact origin, for this booking's session, and pass the
// token to this site's backend, which collects and verifies it itself.
"use strict";

(function () {
  const booking = document.getElementById("booking");
  if (!booking) {
    return;
  }
  const issuerOrigin = booking.dataset.issuerOrigin;
  const session = booking.dataset.session;
  const status = document.getElementById("booking-status");
  const frame = document.getElementById("consent");
  let popup = null;
  let done = false;

  const open = document.getElementById("open-consent");
  if (open) {
    open.addEventListener("click", function () {
      popup = window.open(booking.dataset.url, "kycvs-consent", "popup,width=520,height=760");
      if (!popup) {
        status.textContent = "Your browser blocked the window. Allow pop-ups for this site and try again.";
      }
    });
  }

  window.addEventListener("message", async function (event) {
    // Anyone can post to this window: only the issuer's exact origin, from the frame or the
    // popup this page opened, about this booking's session, is listened to.
    if (event.origin !== issuerOrigin) {
      return;
    }
    const source = frame ? frame.contentWindow : popup;
    if (!source || event.source !== source) {
      return;
    }
    const data = event.data;
    if (!data || data.type !== "kycvs:token" || data.session !== session ||
        typeof data.token !== "string" || done) {
      return;
    }
    done = true;
    status.textContent = "Checking your vaccination status…";
    try {
      const response = await fetch(booking.dataset.tokenUrl, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ session: session, token: data.token }),
      });
      const answer = await response.json();
      status.textContent = answer.result || "Something went wrong. Try again later.";
      status.classList.add(answer.confirmed ? "confirmed" : "refused");
    } catch (e) {
      done = false;
      status.textContent = "Something went wrong. Try again later.";
    }
  });
})();
