// The pages a signer's mail links to: /confirm and /withdraw, #id=<signature>&token=<token>&petition=<id>&lang=<en|ko>.
// The token rides in the fragment, which no server, proxy log or Referer sees; it is sent only by the button's request.
(function () {
  "use strict";
  var text = {
    en: {
      confirm: ["Confirm your signature", "Press the button to confirm that you signed. Your signature counts once confirmed.", "Confirm my signature"],
      withdraw: ["Withdraw a signature", "Press the button to remove this signature from the petition.", "Withdraw the signature"],
      done: { confirm: "Thank you: your signature is confirmed and counts in a moment.", withdraw: "The signature is withdrawn." },
      gone: "This link has expired. Please sign again.",
      refused: "This link is not valid. Please use the link from your email as it is.",
      missing: "This signature is not stored (any more): there is nothing to withdraw.",
      retry: "That did not go through. Please press the button again in a moment.",
      broken: "This link is incomplete. Please open the link from your email as it is."
    },
    ko: {
      confirm: ["서명 확인", "아래 버튼을 눌러 서명을 확인해 주세요. 확인된 서명만 집계됩니다.", "서명 확인하기"],
      withdraw: ["서명 철회", "아래 버튼을 누르면 이 서명이 청원에서 삭제됩니다.", "서명 철회하기"],
      done: { confirm: "감사합니다. 서명이 확인되었으며 곧 집계됩니다.", withdraw: "서명이 철회되었습니다." },
      gone: "이 링크는 만료되었습니다. 다시 서명해 주세요.",
      refused: "유효하지 않은 링크입니다. 이메일의 링크를 그대로 열어 주세요.",
      missing: "저장된 서명이 없습니다. 철회할 것이 없습니다.",
      retry: "처리되지 않았습니다. 잠시 후 버튼을 다시 눌러 주세요.",
      broken: "링크가 완전하지 않습니다. 이메일의 링크를 그대로 열어 주세요."
    }
  };
  var args = {};
  location.hash.replace(/^#/, "").split("&").forEach(function (pair) {
    var at = pair.indexOf("=");
    if (at > 0) args[decodeURIComponent(pair.slice(0, at))] = decodeURIComponent(pair.slice(at + 1));
  });
  var lang = text[args.lang] ? args.lang : "en";
  var t = text[lang];
  var mode = location.pathname.indexOf("/withdraw") === 0 ? "withdraw" : "confirm";
  var $ = function (id) { return document.getElementById(id); };
  document.documentElement.lang = lang;
  $("heading").textContent = t[mode][0];
  document.title = t[mode][0];
  var id = /^[0-9a-f-]{36}$/i.test(args.id || "") ? args.id : null;
  if (!id || !args.token) { $("result").textContent = t.broken; return; }
  $("explain").textContent = t[mode][1];
  if (/^[0-9a-f-]{36}$/i.test(args.petition || "")) {
    fetch("/api/petitions/" + args.petition).then(function (r) { return r.ok ? r.json() : null; })
      .then(function (p) { if (p) $("petition").textContent = p.title; }).catch(function () {});
  }
  var button = $("act");
  button.textContent = t[mode][2];
  button.hidden = false;
  button.addEventListener("click", function () {
    button.disabled = true;
    var request = mode === "confirm"
      ? { method: "POST", url: "/api/signatures/" + id + "/confirmation", header: "X-Confirmation-Token" }
      : { method: "DELETE", url: "/api/signatures/" + id, header: "X-Withdrawal-Token" };
    var headers = {};
    headers[request.header] = args.token;
    fetch(request.url, { method: request.method, headers: headers, credentials: "omit" }).then(function (r) {
      if (r.ok) { $("result").textContent = t.done[mode]; button.hidden = true; return; }
      $("result").textContent = r.status === 410 ? t.gone : r.status === 403 ? t.refused : r.status === 404 ? t.missing : t.retry;
      button.disabled = r.status !== 410 && r.status !== 403 && r.status !== 404 ? false : true;
    }).catch(function () { $("result").textContent = t.retry; button.disabled = false; });
  });
})();
