// dynalite, started the way its own cli.js starts it, but kept alive when a
// client goes away in the middle of a request.
//
// dynalite rethrows a request stream's 'error' event (index.js:
// `req.on('error', function (err) { throw err })`), so a client killed while
// it sends a body (a job runner killed mid-write, as the tests do on purpose)
// takes the whole server down with ECONNRESET "aborted". Such a request was
// never read to its end, so nothing of it was written: dropping it is safe.
// Any other uncaught error still ends the process, as before.
'use strict'

const argv = require('minimist')(process.argv.slice(2))

function clientWentAway (err) {
  return Boolean(err) && (err.code === 'ECONNRESET' || err.message === 'aborted')
}

process.on('uncaughtException', function (err) {
  if (clientWentAway(err)) {
    console.error('dynalite: a client went away mid-request; dropped it: %s', err.message)
    return
  }
  console.error(err)
  process.exit(1)
})

const server = require('dynalite')(argv).listen(argv.port, argv.host, function () {
  const address = server.address()
  console.log('Dynalite listening at: http://%s:%s', argv.host, address.port)
})
