select request_key, supplier_id, erp_item_id, serial, lot, quantity, unit_price
from erp.replenishment_request where business_date <= :business_date
order by used_on, request_key
