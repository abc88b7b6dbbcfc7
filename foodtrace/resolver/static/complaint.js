/* The 12315-style complaint form: posts JSON to the complaints API, shows the tracking number. */
(function () {
  "use strict";
  var form = document.getElementById("complaint-form");
  if (!form) return;
  var out = document.getElementById("complaint-result");
  form.addEventListener("submit", function (ev) {
    ev.preventDefault();
    var button = form.querySelector("button");
    var contact = form.elements.contact.value.trim();
    var body = {
      merchant_id: form.dataset.merchant,
      category: form.elements.category.value,
      description: form.elements.description.value.trim(),
      contact: contact || null
    };
    button.disabled = true;
    out.className = "";
    out.textContent = "正在提交…";
    fetch("/api/v1/complaints", {
      method: "POST",
      headers: {"content-type": "application/json", "accept": "application/json"},
      body: JSON.stringify(body)
    }).then(function (r) {
      return r.json().then(function (data) { return {ok: r.ok, data: data}; });
    }).then(function (res) {
      if (res.ok && res.data.tracking_number) {
        out.className = "ok-text";
        out.innerHTML = "";
        out.append("投诉已受理,受理编号:");
        var b = document.createElement("b");
        b.id = "tracking-number";
        b.textContent = res.data.tracking_number;
        out.append(b);
        out.append("。请保存编号以查询处理进度。");
        form.elements.description.value = "";
      } else {
        out.className = "bad-text";
        var detail = (res.data && (res.data.detail || res.data.title)) || "请稍后再试";
        out.textContent = "提交失败:" + detail;
      }
    }).catch(function () {
      out.className = "bad-text";
      out.textContent = "网络错误,提交失败,请稍后再试或拨打 12315。";
    }).finally(function () { button.disabled = false; });
  });
})();
