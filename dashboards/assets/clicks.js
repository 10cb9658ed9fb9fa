/* The scatter's click through to the customer page, run in the browser: the page opens at
   once, without a round trip to the server. The address is the customer page the server
   named (a dcc.Store) plus the point's customer number, percent-encoded, so a click can
   only lead to a customer page. */
window.dash_clientside = Object.assign({}, window.dash_clientside, {
  feedback: {
    customerHref: function (clickData, customerPage) {
      var noUpdate = window.dash_clientside.no_update;
      var point = clickData && Array.isArray(clickData.points) ? clickData.points[0] : null;
      var data = point ? point.customdata : null;
      var id = Array.isArray(data) ? data[0] : null;
      if (typeof id !== "string" || !id || typeof customerPage !== "string") {
        return noUpdate;
      }
      return customerPage + encodeURIComponent(id);
    }
  }
});
