// Binds the CAP server to loopback only (cds serve listens on every
// interface otherwise): the interop tests talk to 127.0.0.1.
const cds = require('@sap/cds')

cds.on('bootstrap', (app) => {
  const listen = app.listen.bind(app)
  app.listen = (port, ...rest) => listen(port, '127.0.0.1', ...rest)
})

module.exports = cds.server
