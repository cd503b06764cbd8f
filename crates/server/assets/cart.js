// The demo shop tells the chat what is in the cart (`Tandem.setContext`), so that the agent
// who answers sees it beside the handoff, marked as from the page (docs/embedding.md).
(function () {
  var context = {
    cart: [
      { item: 'Trail runner shoes, size 42', qty: 1, price: '1 299 kr' },
      { item: 'Merino base layer, M', qty: 2, price: '549 kr' }
    ],
    shipping: '2–4 days',
    total: '2 446 kr'
  };
  function tell() { window.Tandem.setContext(context); }
  if (window.Tandem) tell();
  else document.querySelector('script[data-merchant]').addEventListener('load', tell);
})();
