// Writes the CSV data of the interop model: enough rows that CAP pages
// its answers (1,000 rows a page). Deterministic; run with `node gen-data.js`.
const fs = require('fs')
const path = require('path')
const dir = path.join(__dirname, 'db', 'data')

const books = ['ID;title;stock;price']
for (let i = 1; i <= 2500; i++) books.push(`${i};Book ${i};${(i * 7) % 100};${(10 + (i % 90)).toFixed(2)}`)
fs.writeFileSync(path.join(dir, 'interop-Books.csv'), books.join('\n') + '\n')

const hex = (n, w) => n.toString(16).padStart(w, '0')
const authors = ['ID;name;city']
const cities = ['Walldorf', 'Berlin', 'Paris', 'Boston', 'Tokyo']
for (let i = 1; i <= 1200; i++) authors.push(`${hex(i, 8)}-0000-4000-8000-${hex(i * 7919, 12)};Author ${i};${cities[i % cities.length]}`)
fs.writeFileSync(path.join(dir, 'interop-Authors.csv'), authors.join('\n') + '\n')

const stock = ['book_ID;warehouse;quantity']
for (let i = 1; i <= 600; i++) for (const w of ['WH1', 'WH2']) stock.push(`${i};${w};${(i * 13) % 50}`)
fs.writeFileSync(path.join(dir, 'interop-Stock.csv'), stock.join('\n') + '\n')
