/**
 * The header of the `103 Early Hints` that `POST /verify` sends once the order exists, carrying
 * its id. Server and client read the name from here.
 */
export const ORDER_ID_HEADER = 'tn-order-id';
