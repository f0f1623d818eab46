// The kycvs consent page: asks for the mobile number and name, sends the code, checks it,
// and hands the signed token to the booking site that opened the page, by postMessage to
// that site's exact origin only. No third-party code, no cookies, no storage.
"use strict";

(function () {
  const main = document.getElementById("main");
  if (!main) {
    return;
  }
  const session = main.dataset.session;
  const origin = main.dataset.origin;
  const messages = JSON.parse(document.getElementById("kycvs-messages").textContent);
  const summary = document.getElementById("error-summary");
  const summaryLink = document.getElementById("error-link");
  const steps = {
    details: document.getElementById("step-details"),
    code: document.getElementById("step-code"),
    done: document.getElementById("step-done"),
  };
  const fields = {
    mobile: document.getElementById("mobile"),
    name: document.getElementById("name"),
    code: document.getElementById("code"),
  };
  let busy = false;

  function message(code, attemptsLeft) {
    if (code === "otp_mismatch" && attemptsLeft === 1) {
      return messages.otp_mismatch_1;
    }
    const text = messages[code] || messages.other;
    return text.replace("{n}", String(attemptsLeft));
  }

  function clearErrors() {
    summary.hidden = true;
    for (const field of Object.values(fields)) {
      field.removeAttribute("aria-invalid");
      field.parentElement.classList.remove("kycvs-field-error");
    }
  }

  // An error summary at the top that links to the field, as people using screen readers
  // and keyboards expect; the live region announces it.
  function showError(text, field) {
    summaryLink.textContent = text;
    summaryLink.href = field ? "#" + field.id : "#main";
    summary.hidden = false;
    if (field) {
      field.setAttribute("aria-invalid", "true");
      field.parentElement.classList.add("kycvs-field-error");
    }
    summary.focus();
  }

  function show(step) {
    for (const [name, element] of Object.entries(steps)) {
      element.hidden = name !== step;
    }
  }

  async function call(path, body) {
    const response = await fetch("/v1/sessions/" + encodeURIComponent(session) + path, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(body),
      credentials: "omit",
      cache: "no-store",
      referrerPolicy: "no-referrer",
    });
    let json = {};
    try {
      json = await response.json();
    } catch (e) {
      json = { error: "other" };
    }
    return { ok: response.ok, json: json };
  }

  function deliver(token) {
    const message = { type: "kycvs:token", session: session, token: token };
    // Only the registered origin can receive it: postMessage drops it for any other.
    if (window.parent && window.parent !== window) {
      window.parent.postMessage(message, origin);
    } else if (window.opener) {
      window.opener.postMessage(message, origin);
    }
  }

  summaryLink.addEventListener("click", function (event) {
    const target = summaryLink.getAttribute("href");
    if (target && target !== "#main") {
      event.preventDefault();
      const field = document.querySelector(target);
      if (field) {
        field.focus();
      }
    }
  });

  document.getElementById("details-form").addEventListener("submit", async function (event) {
    event.preventDefault();
    if (busy) {
      return;
    }
    clearErrors();
    const mobile = fields.mobile.value.trim();
    const name = fields.name.value.trim();
    if (!mobile) {
      return showError(messages.missing_mobile, fields.mobile);
    }
    if (!name) {
      return showError(messages.missing_name, fields.name);
    }
    busy = true;
    try {
      const answer = await call("/code", { mobile: mobile, name: name });
      if (answer.ok) {
        show("code");
        fields.code.value = "";
        fields.code.focus();
      } else {
        const code = answer.json.error;
        const field = code === "invalid_mobile" ? fields.mobile
          : code === "invalid_argument" ? fields.name : null;
        showError(message(code), field);
      }
    } catch (e) {
      showError(messages.other, null);
    } finally {
      busy = false;
    }
  });

  document.getElementById("code-form").addEventListener("submit", async function (event) {
    event.preventDefault();
    if (busy) {
      return;
    }
    clearErrors();
    const code = fields.code.value.trim();
    if (!code) {
      return showError(messages.missing_code, fields.code);
    }
    busy = true;
    try {
      const answer = await call("/verify", { otp: code });
      if (answer.ok) {
        show("done");
        document.getElementById("done-title").focus();
        deliver(answer.json.token);
      } else {
        const error = answer.json.error;
        if (error === "otp_mismatch") {
          fields.code.value = "";
          showError(message(error, answer.json.attempts_left), fields.code);
        } else if (error === "attempts_exhausted" || error === "consent_expired" ||
                   error === "consent_not_found") {
          show("details");
          showError(message(error), null);
        } else {
          showError(message(error), null);
        }
      }
    } catch (e) {
      showError(messages.other, null);
    } finally {
      busy = false;
    }
  });

  document.getElementById("new-code").addEventListener("click", function () {
    clearErrors();
    show("details");
    fields.mobile.focus();
  });
})();
