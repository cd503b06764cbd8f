// The strict demo page lists every Content-Security-Policy violation, to show that the chat
// causes none (the end-to-end tests read window.tandemDemoViolations).
window.tandemDemoViolations = [];
document.addEventListener('securitypolicyviolation', function (event) {
  window.tandemDemoViolations.push(event.effectiveDirective + ' ' + event.blockedURI);
  var out = document.getElementById('violations');
  if (out) out.textContent = String(window.tandemDemoViolations.length);
});
